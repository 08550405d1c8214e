/* Threads that wait for a sleeper without ever calling the library or
 * reading a clock: one spins on a plain flag, one yields in a loop. The
 * sleeper's 30 s must still pass (by real time's slices, if time is virtual)
 * and the spinners see its flag. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"

static volatile int slept;

static void* sleeper(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  sleep(30);
  slept = 1;
  return arg;
}

static void* yielder(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!slept) sched_yield();
  return arg;
}

int main(void) {
  pthread_t s, y;
  CHECK_RC(pthread_create(&s, NULL, sleeper, NULL), 0);
  CHECK_RC(pthread_create(&y, NULL, yielder, NULL), 0);
  sched_yield(); /* both started their waits */
  while (!slept) {
  }
  CHECK_RC(pthread_join(s, NULL), 0);
  CHECK_RC(pthread_join(y, NULL), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf("virtual_time_spin: the spinners saw the sleeper wake\n");
  return 0;
}
