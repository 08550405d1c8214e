/* pause() in main returns once a signal's handler has run on main, when the
 * signal is sent to the process while main waits:
 *   blocked    workers block SIGUSR1, so only main can take it; a worker
 *              kill()s the process;
 *   unblocked  nobody blocks SIGUSR1 and a worker kill()s the process, as
 *              stress-ng's workers do (with SIGALRM, see `alarm`). POSIX lets
 *              any thread take it; Linux gives a process signal to the
 *              thread group leader (main) when it does not block it and has
 *              nothing pending, so natively the handler runs on main, and
 *              main's pause() returns;
 *   alarm      the same with SIGALRM, which ptshim shares with its timer;
 *   outside    another process sends SIGUSR1 while every thread of this one
 *              waits (the workers in a condvar wait): nothing runs and
 *              nobody sleeps, and the signal must still reach main.
 * Meanwhile a worker spins (never yields) and others sleep, so the handler
 * must reach main, blocked, from whatever thread runs. Each mode does it
 * three times. The one-kernel-thread check comes at the end (each thread
 * records its kernel thread), so that natively the logic runs first. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"

#define ROUNDS 3

static pthread_t main_thread;
static int sig_used = SIGUSR1;
static atomic_int on_main, elsewhere;
static atomic_int round_started, stop;
static atomic_long tids[3];
static int block_in_workers, from_outside;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_workers = PTHREAD_COND_INITIALIZER;

static void on_signal(int sig) {
  (void)sig;
  if (pthread_equal(pthread_self(), main_thread)) {
    atomic_fetch_add(&on_main, 1);
  } else {
    atomic_fetch_add(&elsewhere, 1);
  }
}

static void worker_start(int slot) {
  atomic_store(&tids[slot], syscall(SYS_gettid));
  if (block_in_workers) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig_used);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
  }
}

/* Sends the signal to the process once main is in pause(), each round. */
static void* sender(void* arg) {
  (void)arg;
  worker_start(0);
  for (int r = 1; r <= ROUNDS; r++) {
    while (atomic_load(&round_started) < r) usleep(1000);
    usleep(30 * 1000); /* main is in pause() by now */
    CHECK(kill(getpid(), sig_used) == 0);
  }
  return NULL;
}

static void* spinner(void* arg) {
  (void)arg;
  worker_start(1);
  while (!atomic_load(&stop)) {
  }
  return NULL;
}

/* Waits in a condvar until main is done: in `outside` mode every thread
 * but main then waits with no deadline. */
static void* idler(void* arg) {
  (void)arg;
  worker_start(2);
  pthread_mutex_lock(&lock);
  while (!atomic_load(&stop)) pthread_cond_wait(&wake_workers, &lock);
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "blocked";
  if (strcmp(mode, "blocked") == 0) {
    block_in_workers = 1;
  } else if (strcmp(mode, "alarm") == 0) {
    sig_used = SIGALRM;
  } else if (strcmp(mode, "outside") == 0) {
    from_outside = 1;
  } else {
    CHECK_MSG(strcmp(mode, "unblocked") == 0, "unknown mode %s", mode);
  }
  main_thread = pthread_self();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  CHECK(sigaction(sig_used, &sa, NULL) == 0);

  pthread_t threads[3];
  int count = 0;
  if (!from_outside) {
    CHECK_RC(pthread_create(&threads[count++], NULL, sender, NULL), 0);
    CHECK_RC(pthread_create(&threads[count++], NULL, spinner, NULL), 0);
  }
  CHECK_RC(pthread_create(&threads[count++], NULL, idler, NULL), 0);
  usleep(10 * 1000);

  for (int r = 1; r <= ROUNDS; r++) {
    pid_t child = -1;
    if (from_outside) {
      fflush(NULL);
      child = fork();
      CHECK(child >= 0);
      if (child == 0) {
        struct timespec wait_for_pause = {0, 30 * 1000 * 1000};
        nanosleep(&wait_for_pause, NULL);
        kill(getppid(), sig_used);
        _exit(0);
      }
    }
    atomic_store(&round_started, r);
    int64_t t0 = now_ns();
    errno = 0;
    int rc = pause();
    int64_t took = now_ns() - t0;
    CHECK_MSG(rc == -1 && errno == EINTR, "pause returned %d, errno %d", rc, errno);
    CHECK_MSG(atomic_load(&on_main) == r, "round %d: the handler ran %d times on main", r,
              atomic_load(&on_main));
    CHECK_MSG(took < 5 * NS_PER_S, "pause took %lld ms", (long long)(took / NS_PER_MS));
    if (child > 0) {
      int status;
      CHECK(waitpid(child, &status, 0) == child);
    }
  }
  atomic_store(&stop, 1);
  pthread_mutex_lock(&lock);
  pthread_cond_broadcast(&wake_workers);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < count; i++) CHECK_RC(pthread_join(threads[i], NULL), 0);
  CHECK_MSG(atomic_load(&elsewhere) == 0, "the handler ran %d times on another thread",
            atomic_load(&elsewhere));
  for (int i = 0; i < 3; i++) {
    long tid = atomic_load(&tids[i]);
    CHECK_MSG(tid == 0 || tid == getpid(),
              "a thread ran on kernel thread %ld, but the process (pid %ld) must use only one "
              "kernel thread",
              tid, (long)getpid());
  }
  CHECK_ONE_KERNEL_THREAD();
  printf("pause_wakeup %s: pause() returned after the handler ran on main, %d times\n", mode,
         ROUNDS);
  return 0;
}
