/* A program built with -fstack-protector-all: 16 threads recurse through
 * functions with local char arrays (fixed, variable-length and alloca'd),
 * and are preempted in the middle of them every 100us for the whole run.
 * Every function checks its canary on return, so a thread resumed with
 * another thread's canary, or a frame damaged by a switch, aborts with
 * "stack smashing detected". Also checks that each thread sees the same
 * canary as main and that the arrays keep their contents.
 * usage: stack_protector [MILLISECONDS]   (default 1500) */
#include <alloca.h>
#include <pthread.h>
#include <sched.h>

#include "check.h"
#include "storm.h"

#ifndef __SSP_ALL__
#error "stack_protector.c must be built with -fstack-protector-all"
#endif

enum { THREADS = 16, MAX_DEPTH = 120 };

static int64_t deadline;
static uintptr_t main_canary;
static long calls[THREADS], preempted_spins[THREADS], rounds_done[THREADS];

static uintptr_t read_canary(void) {
#if defined(__x86_64__)
  uintptr_t canary;
  __asm__ volatile("mov %%fs:0x28, %0" : "=r"(canary));
  return canary;
#else
  return 0;
#endif
}

static void fill(unsigned char* buf, size_t len, unsigned seed) {
  for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)(seed * 31u + i * 7u);
}

static void verify(const unsigned char* buf, size_t len, unsigned seed, int idx, int depth,
                   const char* what) {
  for (size_t i = 0; i < len; i++)
    CHECK_MSG(buf[i] == (unsigned char)(seed * 31u + i * 7u),
              "thread %d depth %d: %s byte %zu changed while the thread was switched out", idx,
              depth, what, i);
}

struct walk {
  int idx;
  uint64_t rng;
};

static unsigned long descend_b(struct walk* w, int depth);

/* A fixed array and a small one next to the canary. */
static __attribute__((noinline)) unsigned long descend_a(struct walk* w, int depth) {
  unsigned char small[13], big[200];
  unsigned seed = (unsigned)(w->idx * 1000 + depth);
  fill(small, sizeof small, seed);
  fill(big, sizeof big, seed + 1);
  calls[w->idx]++;
  if (depth % 4 == 0)
    preempted_spins[w->idx] += storm_spin_watch(w->idx, storm_rand(&w->rng) % 4000);
  if (depth % 29 == 0) sched_yield();
  unsigned long below = depth > 0 ? descend_b(w, depth - 1) : 0;
  verify(small, sizeof small, seed, w->idx, depth, "small array");
  verify(big, sizeof big, seed + 1, w->idx, depth, "big array");
  return below + small[3] + big[100];
}

/* A variable-length array and an alloca'd buffer. */
static __attribute__((noinline)) unsigned long descend_b(struct walk* w, int depth) {
  size_t vla_len = 8 + storm_rand(&w->rng) % 120;
  size_t alloca_len = 8 + storm_rand(&w->rng) % 300;
  unsigned char vla[vla_len];
  unsigned char* dynamic = alloca(alloca_len);
  unsigned seed = (unsigned)(w->idx * 7777 + depth);
  fill(vla, vla_len, seed);
  fill(dynamic, alloca_len, seed + 2);
  calls[w->idx]++;
  if (depth % 3 == 0)
    preempted_spins[w->idx] += storm_spin_watch(w->idx, storm_rand(&w->rng) % 4000);
  if (depth % 41 == 0) usleep(5);
  unsigned long below = depth > 0 ? descend_a(w, depth - 1) : 0;
  verify(vla, vla_len, seed, w->idx, depth, "variable-length array");
  verify(dynamic, alloca_len, seed + 2, w->idx, depth, "alloca'd buffer");
  return below + vla[vla_len - 1] + dynamic[0];
}

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct walk w = {.idx = (int)(long)arg, .rng = storm_seed((int)(long)arg)};
  CHECK_MSG(read_canary() == main_canary, "thread %d: stack-protector canary differs from main's",
            w.idx);
  long rounds = 0;
  while (now_ns() < deadline) {
    int depth = 1 + (int)(storm_rand(&w.rng) % MAX_DEPTH);
    descend_a(&w, depth);
    CHECK(read_canary() == main_canary);
    rounds++;
  }
  rounds_done[w.idx] = rounds;
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  deadline = storm_deadline(argc, argv, 1, start);
  main_canary = read_canary();
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&t[i], NULL, worker, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  long total_calls = 0, total_preempted = 0, total_rounds = 0;
  for (int i = 0; i < THREADS; i++) {
    CHECK_MSG(rounds_done[i] > 0, "thread %d finished no recursion", i);
    total_calls += calls[i];
    total_preempted += preempted_spins[i];
    total_rounds += rounds_done[i];
  }
  CHECK_MSG(total_preempted > 0, "no thread was ever switched out in the middle of a frame");
  CHECK(read_canary() == main_canary);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "stack_protector: %d threads, %ld recursions, %ld protected calls in %.0f ms, %ld "
      "switched out mid-frame: no canary mismatch\n",
      THREADS, total_rounds, total_calls, (double)(now_ns() - start) / NS_PER_MS, total_preempted);
  return 0;
}
