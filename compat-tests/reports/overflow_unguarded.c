/* An overflow of a stack without a guard page (run with
 * PTSHIM_GUARDED_STACKS=0) is reported as a stack overflow even when it runs
 * into mapped memory and so cannot fault: the thread maps memory right below
 * its own stack (as another thread's stack could be), each frame spins a
 * while, and a runnable spinner keeps the preemption ticks coming, so a tick
 * finds the stack pointer below the stack. (When what lies below is not
 * writable after all, the overflow faults; that is reported as one too.) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "check.h"
#include "own_stack.h"
#include "spinner.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void spin_us(long us) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do clock_gettime(CLOCK_MONOTONIC, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000 < us);
}

static int __attribute__((noinline)) slow_recurse(int depth) {
  volatile char frame[512];
  memset((char*)frame, depth & 0xff, sizeof frame);
  if (depth < 0) return 0; /* never: keeps the compiler from calling it endless */
  spin_us(50);
  return slow_recurse(depth + 1) + frame[depth % sizeof frame];
}

static void* slow_diver(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  char* lo = own_stack_lo();
  /* As much as the gap below allows (what is further down may be mapped). */
  for (size_t below = 1 << 20; below >= 16 * 1024; below /= 2) {
    void* want = lo - below;
    void* got = mmap(want, below, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == want) break;
    CHECK_MSG(errno == EEXIST, "cannot map below the stack: %s", strerror(errno));
  }
  return (void*)(long)slow_recurse(0);
}

static void* sleeper(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  for (;;) pthread_cond_wait(&never, &lock);
  return NULL;
}

int main(void) {
  pthread_attr_t small;
  CHECK_RC(pthread_attr_init(&small), 0);
  CHECK_RC(pthread_attr_setstacksize(&small, 64 * 1024), 0);
  pthread_t diver, below, spin;
  CHECK_RC(pthread_create(&diver, &small, slow_diver, NULL), 0);
  CHECK_RC(pthread_setname_np(diver, "slow-diver"), 0);
  CHECK_RC(pthread_create(&below, NULL, sleeper, NULL), 0);
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  pthread_join(diver, NULL);
  fprintf(stderr, "overflow_unguarded: the overflow was not caught\n");
  return 1;
}
