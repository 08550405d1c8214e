/* pthread_once whose init routine does not return: cancelled in the middle
 * (a sleep is a cancellation point) or ended by pthread_exit, the once
 * control is left as if never run, so a thread that waited for it meanwhile
 * runs the routine itself, and later calls find it done (glibc's
 * semantics). The cancelled runner's own cleanup handler runs. */
#include <pthread.h>
#include <unistd.h>

#include "check.h"

static pthread_once_t cancelled_once = PTHREAD_ONCE_INIT;
static pthread_once_t exited_once = PTHREAD_ONCE_INIT;
static volatile int init_calls, init_entered, cleanups, exit_calls;

static void count_cleanup(void* arg) {
  (void)arg;
  cleanups++;
}

/* The first call waits until cancelled; later ones return at once. */
static void init_slow(void) {
  if (init_calls++ > 0) return;
  pthread_cleanup_push(count_cleanup, NULL);
  init_entered = 1;
  for (;;) sleep(100);
  pthread_cleanup_pop(0);
}

static void init_exits(void) {
  if (exit_calls++ == 0) pthread_exit((void*)7);
}

static void* run_once(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_once(arg, arg == &cancelled_once ? init_slow : init_exits), 0);
  return (void*)1;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t runner, waiter;
  CHECK_RC(pthread_create(&runner, NULL, run_once, &cancelled_once), 0);
  while (!init_entered) usleep(1000);
  CHECK_RC(pthread_create(&waiter, NULL, run_once, &cancelled_once), 0);
  usleep(50 * 1000); /* the waiter waits for the running routine meanwhile */
  CHECK_RC(pthread_cancel(runner), 0);
  void* result;
  CHECK_RC(pthread_join(runner, &result), 0);
  CHECK_MSG(result == PTHREAD_CANCELED, "the runner returned %p", result);
  CHECK_MSG(cleanups == 1, "%d cleanup handler calls", cleanups);
  CHECK_RC(pthread_join(waiter, &result), 0);
  CHECK_MSG(result == (void*)1, "the waiter returned %p", result);
  CHECK_MSG(init_calls == 2, "init ran %d times, want 2 (the waiter ran it again)", init_calls);
  CHECK_RC(pthread_once(&cancelled_once, init_slow), 0);
  CHECK_MSG(init_calls == 2, "init ran %d times after it was done", init_calls);

  CHECK_RC(pthread_create(&runner, NULL, run_once, &exited_once), 0);
  CHECK_RC(pthread_join(runner, &result), 0);
  CHECK_MSG(result == (void*)7, "the exiting runner returned %p", result);
  CHECK_RC(pthread_once(&exited_once, init_exits), 0);
  CHECK_MSG(exit_calls == 2, "init ran %d times, want 2", exit_calls);
  CHECK_RC(pthread_once(&exited_once, init_exits), 0);
  CHECK_MSG(exit_calls == 2, "init ran %d times after it was done", exit_calls);
  printf("once_cancel: a cancelled or exited once routine ran again in the next caller\n");
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
