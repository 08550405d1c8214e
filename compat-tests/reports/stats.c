/* A program whose threads, yields and lock waits are known, for the
 * statistics a run can print at exit: 10 worker threads, created 4, 4 and 2
 * at a time and each batch joined before the next (so at most 5 threads,
 * main included, are alive at once); each worker calls sched_yield 50 times,
 * then 5 times takes one global mutex and yields while holding it (so the
 * other workers of its batch block on it), and workers 0 and 1 then spend
 * about 30 ms each in memset and 30 ms in a loop of their own code (where a
 * timer, if any, finds them in the C library and in the program).
 * usage: stats [fork]: with "fork", main then forks a child that runs one
 * batch of 2 workers and exits normally; the parent waits for it. */
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>

#include "check.h"

#define WORKERS 10
#define BATCH 4
#define YIELDS 50
#define LOCKED_ROUNDS 5

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static long locked_rounds_done;
static char buffer[1 << 20];
static volatile unsigned long sink;

static void busy_for(int64_t ns, int in_libc) {
  int64_t end = now_ns() + ns;
  while (now_ns() < end) {
    if (in_libc) {
      memset(buffer, (int)sink, sizeof buffer);
      sink += (unsigned char)buffer[sink % sizeof buffer];
    } else {
      for (int i = 0; i < 100000; i++) sink = sink * 31 + (unsigned long)i;
    }
  }
}

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  long index = (long)arg;
  for (int i = 0; i < YIELDS; i++) sched_yield();
  for (int i = 0; i < LOCKED_ROUNDS; i++) {
    CHECK_RC(pthread_mutex_lock(&shared_lock), 0);
    sched_yield();
    locked_rounds_done++;
    CHECK_RC(pthread_mutex_unlock(&shared_lock), 0);
  }
  if (index < 2) { /* two at once: each has the other to make way for */
    busy_for(30 * NS_PER_MS, 1);
    busy_for(30 * NS_PER_MS, 0);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void run_batches(int workers) {
  pthread_t threads[BATCH];
  for (int first = 0; first < workers; first += BATCH) {
    int n = workers - first < BATCH ? workers - first : BATCH;
    for (int i = 0; i < n; i++) {
      CHECK_RC(pthread_create(&threads[i], NULL, worker, (void*)(long)(first + i)), 0);
    }
    for (int i = 0; i < n; i++) CHECK_RC(pthread_join(threads[i], NULL), 0);
  }
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int fork_too = argc > 1 && strcmp(argv[1], "fork") == 0;
  run_batches(WORKERS);
  CHECK_MSG(locked_rounds_done == WORKERS * LOCKED_ROUNDS, "%ld locked rounds", locked_rounds_done);
  CHECK_ONE_KERNEL_THREAD();
  if (fork_too) {
    fflush(NULL);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
      locked_rounds_done = 0;
      run_batches(2);
      CHECK_MSG(locked_rounds_done == 2 * LOCKED_ROUNDS, "child: %ld locked rounds",
                locked_rounds_done);
      CHECK_ONE_KERNEL_THREAD();
      printf("stats: child done\n");
      return 0;
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
  }
  printf("stats: %d workers, %d yields and %d locked rounds each\n", WORKERS, YIELDS,
         LOCKED_ROUNDS);
  return 0;
}
