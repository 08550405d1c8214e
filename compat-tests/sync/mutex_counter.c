/* 100 threads x 10,000 increments of one counter under a static mutex.
 * The increment is a separate load and store, so any preemption inside the
 * critical section that let another thread in would lose updates.
 * usage: mutex_counter [--expect-contention]
 * Each lock is tried first: on one kernel thread a busy mutex means its
 * owner was preempted inside the critical section. --expect-contention
 * (used with a short timeslice) requires that to have happened. */
#include <pthread.h>

#include "check.h"

enum { THREADS = 100, INCREMENTS = 10000 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;    /* volatile: keep load and store apart */
static long per_thread[THREADS]; /* written by each thread, read after join */
static long contended;           /* lock attempts that found the mutex busy */

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  long idx = (long)arg;
  for (int i = 0; i < INCREMENTS; i++) {
    int rc = pthread_mutex_trylock(&lock);
    if (rc == EBUSY) {
      CHECK_RC(pthread_mutex_lock(&lock), 0);
      contended++;
    } else {
      CHECK_RC(rc, 0);
    }
    long seen = counter;
    /* A little work between load and store widens the window. */
    for (volatile int spin = 0; spin < 20; spin++) {
    }
    counter = seen + 1;
    per_thread[idx]++;
    CHECK_RC(pthread_mutex_unlock(&lock), 0);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int expect_contention = argc == 2 && strcmp(argv[1], "--expect-contention") == 0;
  CHECK_MSG(argc == 1 || expect_contention, "usage: %s [--expect-contention]", argv[0]);
  pthread_t threads[THREADS];
  for (long i = 0; i < THREADS; i++)
    CHECK_RC(pthread_create(&threads[i], NULL, worker, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(threads[i], NULL), 0);

  CHECK_MSG(counter == (long)THREADS * INCREMENTS, "counter = %ld, want %ld", counter,
            (long)THREADS * INCREMENTS);
  for (int i = 0; i < THREADS; i++)
    CHECK_MSG(per_thread[i] == INCREMENTS, "thread %d did %ld increments", i, per_thread[i]);
  if (expect_contention)
    CHECK_MSG(contended > 0,
              "no lock ever found the mutex busy: no preemption inside a "
              "critical section, so the test proved nothing");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "mutex_counter: %d threads x %d locked increments = %ld, exact; %ld locks found the "
      "mutex held by a preempted owner\n",
      THREADS, INCREMENTS, counter, contended);
  return 0;
}
