/* sched_yield is a fair round robin. Run with PTSHIM_TIMESLICE=0
 * (cooperative): threads switch only when they block, sleep or yield.
 *
 * Three threads start together behind a mutex+condvar barrier, then each
 * appends its id to a log 5 times, calling sched_yield after each append.
 * Once all three are runnable, only yields happen, and a strict round robin
 * keeps their cyclic order: the log must be one permutation of {1,2,3}
 * repeated (1,2,3,1,2,3,... when the barrier wakes them in FIFO order). */
#include <pthread.h>
#include <sched.h>

#include "check.h"

enum { THREADS = 3, APPENDS = 5, LOG_LEN = THREADS * APPENDS };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_waiting = PTHREAD_COND_INITIALIZER;
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;
static int waiting, go, passed;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_ids[LOG_LEN];
static int log_len;

static void* appender(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int id = (int)(long)arg;

  CHECK_RC(pthread_mutex_lock(&lock), 0);
  if (++waiting == THREADS) CHECK_RC(pthread_cond_signal(&all_waiting), 0);
  while (!go) CHECK_RC(pthread_cond_wait(&go_cv, &lock), 0);
  passed++;
  CHECK_RC(pthread_mutex_unlock(&lock), 0);

  /* Yield until all three are past the barrier (so all are runnable), and
   * at least once, so that the last one through does not start first. */
  do CHECK(sched_yield() == 0);
  while (__atomic_load_n(&passed, __ATOMIC_ACQUIRE) < THREADS);

  for (int i = 0; i < APPENDS; i++) {
    CHECK_RC(pthread_mutex_lock(&log_lock), 0);
    log_ids[log_len++] = id;
    CHECK_RC(pthread_mutex_unlock(&log_lock), 0);
    CHECK(sched_yield() == 0);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    CHECK_RC(pthread_create(&t[i], NULL, appender, (void*)(i + 1)), 0);

  CHECK_RC(pthread_mutex_lock(&lock), 0);
  while (waiting < THREADS) CHECK_RC(pthread_cond_wait(&all_waiting, &lock), 0);
  go = 1;
  CHECK_RC(pthread_cond_broadcast(&go_cv), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);

  char shown[3 * LOG_LEN + 1] = "";
  for (int i = 0; i < log_len; i++)
    snprintf(shown + strlen(shown), sizeof shown - strlen(shown), "%s%d", i ? "," : "", log_ids[i]);
  CHECK_MSG(log_len == LOG_LEN, "%d appends, want %d: %s", log_len, LOG_LEN, shown);
  int first_seen = 0;
  for (int i = 0; i < THREADS; i++) first_seen |= 1 << log_ids[i];
  CHECK_MSG(first_seen == 0xe, "the first %d appends are not one from each thread: %s", THREADS,
            shown);
  for (int i = THREADS; i < LOG_LEN; i++)
    CHECK_MSG(log_ids[i] == log_ids[i - THREADS],
              "not round robin at append %d: %s (want the first %d repeated)", i, shown, THREADS);
  CHECK_ONE_KERNEL_THREAD();
  printf("yield: 3 threads x %d appends with sched_yield between: strict round robin %s\n", APPENDS,
         shown);
  return 0;
}
