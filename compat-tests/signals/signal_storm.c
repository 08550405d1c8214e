/* A storm of signals over threads that lock, wait, sleep and spin: a
 * sender thread kill()s the process and pthread_kill()s the workers, and a
 * child process kill()s it from outside, all the time, while the workers
 * take a mutex, pass a token through a condvar, wait on a semaphore, sleep
 * and spin (so the signals land in program code, in the shim, in switches
 * and in the idle sleep). Handlers have SA_RESTART and save errno, as
 * careful handlers do; the workers and the sender unblock both signals,
 * main blocks them. Checks: no handler ran on main, the semaphore's count
 * adds up exactly (no unit was lost or doubled by a signal), every worker
 * ran its pthread_kill handler, a sleep cut short said so with the time
 * left, and the condvar, mutex and timed waits saw only their own results.
 *
 * argv[1]: run length in ms (default 1500). The one-kernel-thread check
 * comes at the end, so natively the logic runs first. */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"
#include "storm.h"

#define WORKERS 4

static pthread_t workers[WORKERS];
static atomic_long process_handled, thread_handled[WORKERS], stray;
static atomic_int stop;
static atomic_long tids[WORKERS + 1];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static long counter, turn;
static sem_t sem;
static atomic_long posted, taken;
static atomic_long short_sleeps;

static __thread int my_index = -1; /* WORKERS: the sender */

static void enter_handler(void) {
  if (my_index < 0) atomic_fetch_add(&stray, 1);
}

static void on_process_signal(int sig) {
  (void)sig;
  int saved = errno;
  enter_handler();
  atomic_fetch_add(&process_handled, 1);
  errno = saved;
}

static void on_thread_signal(int sig) {
  (void)sig;
  int saved = errno;
  enter_handler();
  if (my_index >= 0 && my_index < WORKERS) atomic_fetch_add(&thread_handled[my_index], 1);
  errno = saved;
}

static sigset_t both;

static void* worker(void* arg) {
  my_index = (int)(long)arg;
  CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &both, NULL), 0);
  atomic_store(&tids[my_index], syscall(SYS_gettid));
  uint64_t rng = storm_seed(my_index);
  while (!atomic_load(&stop)) {
    switch (storm_rand(&rng) % 5) {
      case 0:
        for (int i = 0; i < 50; i++) {
          CHECK_RC(pthread_mutex_lock(&lock), 0);
          counter++;
          CHECK_RC(pthread_mutex_unlock(&lock), 0);
        }
        break;
      case 1: { /* pass the token to the next worker, and wait for it back */
        CHECK_RC(pthread_mutex_lock(&lock), 0);
        if (turn % WORKERS == my_index) {
          turn++;
          CHECK_RC(pthread_cond_broadcast(&turn_changed), 0);
        } else {
          struct timespec until = deadline_after(CLOCK_REALTIME, 2 * NS_PER_MS);
          int rc = pthread_cond_timedwait(&turn_changed, &lock, &until);
          CHECK_MSG(rc == 0 || rc == ETIMEDOUT, "pthread_cond_timedwait: %d", rc);
        }
        CHECK_RC(pthread_mutex_unlock(&lock), 0);
        break;
      }
      case 2:
        if (storm_rand(&rng) % 2) {
          CHECK(sem_post(&sem) == 0);
          atomic_fetch_add(&posted, 1);
        } else {
          struct timespec until = deadline_after(CLOCK_REALTIME, 2 * NS_PER_MS);
          int rc = sem_timedwait(&sem, &until);
          CHECK_MSG(rc == 0 || errno == ETIMEDOUT || errno == EINTR, "sem_timedwait: %s",
                    strerror(errno));
          if (rc == 0) atomic_fetch_add(&taken, 1);
        }
        break;
      case 3: {
        struct timespec req = {0, 200 * 1000}, rem = {0, 0};
        int rc = nanosleep(&req, &rem);
        if (rc != 0) {
          /* The time left may exceed the request by the kernel's timer slack. */
          CHECK_MSG(errno == EINTR && timespec_to_ns(&rem) <= NS_PER_MS, "nanosleep: %s",
                    strerror(errno));
          atomic_fetch_add(&short_sleeps, 1);
        }
        break;
      }
      default:
        storm_spin(20000);
        break;
    }
  }
  return NULL;
}

static void* sender(void* arg) {
  (void)arg;
  my_index = WORKERS;
  CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &both, NULL), 0);
  atomic_store(&tids[WORKERS], syscall(SYS_gettid));
  uint64_t rng = storm_seed(WORKERS);
  while (!atomic_load(&stop)) {
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK_RC(pthread_kill(workers[storm_rand(&rng) % WORKERS], SIGUSR2), 0);
    if (storm_rand(&rng) % 4 == 0) {
      sched_yield();
    } else {
      storm_spin(2000);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  int64_t end = storm_deadline(argc, argv, 1, now_ns());
  CHECK(sem_init(&sem, 0, 0) == 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_RESTART;
  sa.sa_handler = on_process_signal;
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  sa.sa_handler = on_thread_signal;
  CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
  /* main takes no signal: it only waits */
  sigemptyset(&both);
  sigaddset(&both, SIGUSR1);
  sigaddset(&both, SIGUSR2);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &both, NULL), 0);

  for (long i = 0; i < WORKERS; i++) {
    CHECK_RC(pthread_create(&workers[i], NULL, worker, (void*)i), 0);
  }
  pthread_t send;
  CHECK_RC(pthread_create(&send, NULL, sender, NULL), 0);

  fflush(NULL);
  pid_t outside = fork();
  CHECK(outside >= 0);
  if (outside == 0) {
    pid_t parent = getppid();
    for (;;) {
      if (kill(parent, SIGUSR1) != 0) _exit(0);
      struct timespec gap = {0, 100 * 1000};
      nanosleep(&gap, NULL);
    }
  }

  while (now_ns() < end) usleep(10 * 1000);
  CHECK(kill(outside, SIGKILL) == 0);
  int status;
  CHECK(waitpid(outside, &status, 0) == outside);
  atomic_store(&stop, 1);
  CHECK_RC(pthread_join(send, NULL), 0);
  for (int i = 0; i < WORKERS; i++) CHECK_RC(pthread_join(workers[i], NULL), 0);

  /* What is left on the semaphore is what was posted and not taken. */
  int left = 0;
  CHECK(sem_getvalue(&sem, &left) == 0);
  CHECK_MSG(atomic_load(&posted) - atomic_load(&taken) == left,
            "semaphore: %ld posted, %ld taken, %d left", atomic_load(&posted), atomic_load(&taken),
            left);
  CHECK_MSG(atomic_load(&stray) == 0, "%ld handlers ran on main, which blocks both signals",
            atomic_load(&stray));
  long per_thread = 0;
  for (int i = 0; i < WORKERS; i++) {
    CHECK_MSG(atomic_load(&thread_handled[i]) > 0, "worker %d never ran its handler", i);
    per_thread += atomic_load(&thread_handled[i]);
  }
  CHECK_MSG(atomic_load(&process_handled) > 0, "no process signal was handled");
  for (int i = 0; i <= WORKERS; i++) {
    CHECK_MSG(atomic_load(&tids[i]) == getpid(),
              "a thread ran on kernel thread %ld, but the process (pid %ld) must use only one "
              "kernel thread",
              atomic_load(&tids[i]), (long)getpid());
  }
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "signal_storm: %ld process and %ld thread signals handled, %ld sleeps cut short, %ld "
      "increments\n",
      atomic_load(&process_handled), per_thread, atomic_load(&short_sleeps), counter);
  return 0;
}
