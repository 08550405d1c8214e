/* Two threads ping-pong through a shared atomic flag with no library call in
 * their wait loops: A waits for 0 and sets 1, B waits for 1 and sets 0.
 * On one kernel thread each hand-off needs the spinning thread to be
 * preempted, so finishing the rounds proves timer preemption works.
 * Run with PTSHIM_TIMESLICE=1ms to keep it short. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

enum { ROUNDS = 20 };

static atomic_int flag; /* 0: A's turn, 1: B's turn */
static atomic_int rounds_a, rounds_b;

static void* ping(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < ROUNDS; i++) {
    while (atomic_load_explicit(&flag, memory_order_acquire) != 0) {
      /* spin: no calls, no yields */
    }
    atomic_store_explicit(&rounds_a, i + 1, memory_order_relaxed);
    atomic_store_explicit(&flag, 1, memory_order_release);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* pong(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < ROUNDS; i++) {
    while (atomic_load_explicit(&flag, memory_order_acquire) != 1) {
      /* spin: no calls, no yields */
    }
    atomic_store_explicit(&rounds_b, i + 1, memory_order_relaxed);
    atomic_store_explicit(&flag, 0, memory_order_release);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  pthread_t a, b;
  /* B first, so that B (if run first) spins until preempted. */
  CHECK_RC(pthread_create(&b, NULL, pong, NULL), 0);
  CHECK_RC(pthread_create(&a, NULL, ping, NULL), 0);
  CHECK_RC(pthread_join(a, NULL), 0);
  CHECK_RC(pthread_join(b, NULL), 0);
  CHECK(atomic_load(&rounds_a) == ROUNDS && atomic_load(&rounds_b) == ROUNDS);
  CHECK(atomic_load(&flag) == 0);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "preempt_spin: %d ping-pong rounds between two call-free spinners on one kernel "
      "thread in %.1f ms\n",
      ROUNDS, (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
