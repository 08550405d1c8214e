/* Asynchronous cancellation of threads that never reach a cancellation
 * point: each spins in a loop of plain arithmetic with the asynchronous type
 * set and a cleanup handler pushed. A request takes effect while the loop
 * runs: the thread is unwound there, its cleanup handler runs and a join
 * sees PTHREAD_CANCELED. One is cancelled while main waits in a join, one
 * while main itself keeps spinning (the target is only runnable, not
 * blocked), one after it set the asynchronous type with a request already
 * pending (the type change acts at once), one that enables cancellation
 * with a request pending while asynchronous, and one blocked in
 * pthread_mutex_lock (no cancellation point) on a mutex main holds. */
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static volatile unsigned long spins[5];
static volatile int cleaned[5];
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static volatile int may_switch_type;

static void mark_cleaned(void* arg) { cleaned[(long)arg] = 1; }

static void spin_forever(long i) {
  for (;;) spins[i] = spins[i] + 1; /* no call: no cancellation point */
}

static void* async_spinner(void* arg) {
  long i = (long)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL), 0);
  pthread_cleanup_push(mark_cleaned, arg);
  spin_forever(i);
  pthread_cleanup_pop(0);
  return NULL;
}

/* Deferred until the request is pending, then asynchronous: acts at once. */
static void* late_async(void* arg) {
  long i = (long)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_cleanup_push(mark_cleaned, arg);
  while (!may_switch_type) spins[i] = spins[i] + 1;
  CHECK_RC(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL), 0);
  CHECK_MSG(0, "setting the asynchronous type did not act on the pending request");
  pthread_cleanup_pop(0);
  return NULL;
}

/* Disabled and asynchronous until the request is pending, then enabled. */
static void* late_enable(void* arg) {
  long i = (long)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL), 0);
  CHECK_RC(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL), 0);
  pthread_cleanup_push(mark_cleaned, arg);
  while (!may_switch_type) spins[i] = spins[i] + 1;
  CHECK_RC(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL), 0);
  spin_forever(i); /* natively the request may land just after the call */
  pthread_cleanup_pop(0);
  return NULL;
}

static void* async_locker(void* arg) {
  long i = (long)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL), 0);
  pthread_cleanup_push(mark_cleaned, arg);
  spins[i] = 1;
  pthread_mutex_lock(&held);
  CHECK_MSG(0, "the mutex was taken by a cancelled thread");
  pthread_cleanup_pop(0);
  return NULL;
}

static void wait_until_spinning(long i) {
  while (spins[i] == 0) usleep(1000);
}

/* glibc 2.36's pthread_setcancelstate unwinds the thread without setting
 * its result to PTHREAD_CANCELED (the join then sees NULL): for that case
 * only the unwinding is checked. */
static void check_cancelled(pthread_t t, long i, int result_known) {
  void* result;
  CHECK_RC(pthread_join(t, &result), 0);
  CHECK_MSG(result == PTHREAD_CANCELED || (!result_known && result == NULL),
            "thread %ld returned %p", i, result);
  CHECK_MSG(cleaned[i], "thread %ld: its cleanup handler did not run", i);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t t[5];

  /* Cancelled, then joined: main blocks, the spinner runs alone. */
  CHECK_RC(pthread_create(&t[0], NULL, async_spinner, (void*)0), 0);
  wait_until_spinning(0);
  CHECK_RC(pthread_cancel(t[0]), 0);
  check_cancelled(t[0], 0, 1);

  /* Cancelled while main spins until the cleanup handler ran. */
  CHECK_RC(pthread_create(&t[1], NULL, async_spinner, (void*)1), 0);
  wait_until_spinning(1);
  CHECK_RC(pthread_cancel(t[1]), 0);
  while (!cleaned[1]) {
  }
  check_cancelled(t[1], 1, 1);

  CHECK_RC(pthread_create(&t[2], NULL, late_async, (void*)2), 0);
  CHECK_RC(pthread_create(&t[3], NULL, late_enable, (void*)3), 0);
  wait_until_spinning(2);
  wait_until_spinning(3);
  CHECK_RC(pthread_cancel(t[2]), 0);
  CHECK_RC(pthread_cancel(t[3]), 0);
  may_switch_type = 1;
  check_cancelled(t[2], 2, 1);
  check_cancelled(t[3], 3, 0);

  /* Blocked in a mutex main holds: cancelled in its wait. */
  CHECK_RC(pthread_mutex_lock(&held), 0);
  CHECK_RC(pthread_create(&t[4], NULL, async_locker, (void*)4), 0);
  wait_until_spinning(4);
  usleep(50 * 1000); /* it blocks on the mutex meanwhile */
  CHECK_RC(pthread_cancel(t[4]), 0);
  check_cancelled(t[4], 4, 1);
  CHECK_RC(pthread_mutex_unlock(&held), 0);

  printf("cancel_async_loop: 5 threads cancelled asynchronously\n");
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
