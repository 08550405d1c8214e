/* The signal-thread pattern of pbzip2 (-p4) and many servers: main blocks
 * its signals before making threads, so every thread inherits the mask, and
 * one thread takes them in a sigwait loop; workers run meanwhile. It must
 * see a signal sent to the process (kill from inside, and from another
 * process while every thread is blocked and the kernel thread would sleep)
 * and one sent to it with pthread_kill; at the end main sends it SIGUSR1
 * with pthread_kill and joins it, as pbzip2 does at exit.
 *
 * The test checks its one kernel thread only at the end (each thread
 * records its kernel thread id), so that natively the whole logic runs and
 * passes before that check fails. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"

#define WORKERS 4

static sigset_t handled_set;
static atomic_int seen[NSIG];
static atomic_long tids[WORKERS + 2];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static long queued, done;

static void record_tid(int slot) { atomic_store(&tids[slot], syscall(SYS_gettid)); }

static void* signal_thread(void* arg) {
  (void)arg;
  record_tid(0);
  for (;;) {
    int sig = 0;
    CHECK_RC(sigwait(&handled_set, &sig), 0);
    CHECK_MSG(sigismember(&handled_set, sig) == 1, "sigwait returned %d", sig);
    if (sig == SIGUSR1) return (void*)(long)sig; /* pbzip2's "time to go" */
    atomic_fetch_add(&seen[sig], 1);
  }
}

/* Producer-consumer work, so that the sigwait thread waits among threads
 * that block, wake and get preempted. */
static void* worker(void* arg) {
  record_tid(1 + (int)(long)arg);
  for (int i = 0; i < 2000; i++) {
    pthread_mutex_lock(&lock);
    if ((long)arg % 2 == 0) {
      queued++;
      pthread_cond_signal(&more);
    } else {
      while (queued == 0 && done < WORKERS / 2) pthread_cond_wait(&more, &lock);
      if (queued > 0) queued--;
    }
    pthread_mutex_unlock(&lock);
    if (i % 500 == 0) usleep(1000);
  }
  pthread_mutex_lock(&lock);
  if ((long)arg % 2 == 0) done++;
  pthread_cond_broadcast(&more);
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void wait_seen(int sig, int count) {
  int64_t give_up = now_ns() + 5 * NS_PER_S;
  while (atomic_load(&seen[sig]) < count && now_ns() < give_up) usleep(1000);
  CHECK_MSG(atomic_load(&seen[sig]) == count, "sigwait took %s %d times, want %d", strsignal(sig),
            atomic_load(&seen[sig]), count);
}

/* A child process that sends `sig` to its parent after `ms`. */
static pid_t send_later(int sig, int ms) {
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    struct timespec pause_for = {0, ms * 1000000L};
    nanosleep(&pause_for, NULL);
    kill(getppid(), sig);
    _exit(0);
  }
  return pid;
}

int main(void) {
  sigemptyset(&handled_set);
  sigaddset(&handled_set, SIGINT);
  sigaddset(&handled_set, SIGTERM);
  sigaddset(&handled_set, SIGABRT);
  sigaddset(&handled_set, SIGHUP);
  sigaddset(&handled_set, SIGUSR1);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &handled_set, NULL), 0);

  pthread_t sigthread, workers[WORKERS];
  CHECK_RC(pthread_create(&sigthread, NULL, signal_thread, NULL), 0);
  for (long i = 0; i < WORKERS; i++) {
    CHECK_RC(pthread_create(&workers[i], NULL, worker, (void*)i), 0);
  }
  /* To the process, while the workers run: pending in the kernel, since
   * every thread blocks it. */
  CHECK(kill(getpid(), SIGHUP) == 0);
  wait_seen(SIGHUP, 1);
  /* To the thread itself. */
  CHECK_RC(pthread_kill(sigthread, SIGTERM), 0);
  wait_seen(SIGTERM, 1);
  for (int i = 0; i < WORKERS; i++) CHECK_RC(pthread_join(workers[i], NULL), 0);

  /* From another process. */
  pid_t child = send_later(SIGINT, 50);
  wait_seen(SIGINT, 1);
  int status;
  CHECK(waitpid(child, &status, 0) == child);

  /* pbzip2's exit: the signal thread is told to go, then joined. */
  CHECK_RC(pthread_kill(sigthread, SIGUSR1), 0);
  void* result = NULL;
  CHECK_RC(pthread_join(sigthread, &result), 0);
  CHECK_MSG((long)result == SIGUSR1, "the signal thread ended with %ld", (long)result);

  /* Again, with main already joining: nothing runs, nobody sleeps, and the
   * kernel thread must still see a signal from outside. */
  CHECK_RC(pthread_create(&sigthread, NULL, signal_thread, NULL), 0);
  child = send_later(SIGUSR1, 50);
  CHECK_RC(pthread_join(sigthread, &result), 0);
  CHECK_MSG((long)result == SIGUSR1, "the signal thread ended with %ld", (long)result);
  CHECK(waitpid(child, &status, 0) == child);

  CHECK_MSG(atomic_load(&seen[SIGABRT]) == 0 && atomic_load(&seen[SIGUSR1]) == 0,
            "signals seen that nobody sent");
  for (int i = 0; i < WORKERS + 1; i++) {
    CHECK_MSG(atomic_load(&tids[i]) == getpid(),
              "a thread ran on kernel thread %ld, but the process (pid %ld) must use only one "
              "kernel thread",
              atomic_load(&tids[i]), (long)getpid());
  }
  CHECK_ONE_KERNEL_THREAD();
  printf("sigwait_thread: process, thread and outside signals taken by sigwait; joined at exit\n");
  return 0;
}
