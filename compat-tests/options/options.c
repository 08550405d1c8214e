/* A tiny threaded program for the option tests: the harness runs it with
 * good and bad PTSHIM_* settings. It creates a few threads that use some
 * stack (32 KiB, fits the smallest accepted stack size of 256k), sleep and
 * yield, so the options have something to act on. */
#include <pthread.h>

#include "check.h"

enum { THREADS = 4 };

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  volatile char scratch[32 * 1024];
  for (size_t i = 0; i < sizeof scratch; i += 256) scratch[i] = (char)i;
  usleep(2000);
  sched_yield();
  for (size_t i = 0; i < sizeof scratch; i += 256) CHECK(scratch[i] == (char)i);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&t[i], NULL, worker, (void*)i), 0);
  for (long i = 0; i < THREADS; i++) {
    void* ret;
    CHECK_RC(pthread_join(t[i], &ret), 0);
    CHECK(ret == (void*)i);
  }
  CHECK_ONE_KERNEL_THREAD();
  const char *slice = getenv("PTSHIM_TIMESLICE"), *stack = getenv("PTSHIM_STACK_SIZE");
  printf("options: %d threads ran with PTSHIM_TIMESLICE=%s PTSHIM_STACK_SIZE=%s\n", THREADS,
         slice ? slice : "(unset)", stack ? stack : "(unset)");
  return 0;
}
