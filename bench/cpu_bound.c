/* cpu_bound: 4 threads each run N work units of 16 xorshift64 steps, pure
 * integer work with no synchronisation but create and join. One unit is one
 * op: ns_per_op = elapsed / (4N). Natively on several CPUs the threads run in
 * parallel; pinned to one CPU or under the shim they share it, and the shim
 * switches between them on its preemption timer, so the figure shows what that
 * preemption costs. Each thread's result is checked afterwards by jumping
 * ahead N steps at once (a xorshift step is linear over GF(2), so N steps are
 * one 64x64 bit matrix raised to the power N). */
#include <pthread.h>
#include <stdint.h>

#include "bench_common.h"

#define THREADS 4
#define STEPS_PER_UNIT 16

static long iterations;
static volatile uint64_t sink[THREADS]; /* each thread's final state */

static uint64_t step(uint64_t x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

static uint64_t seed(int i) { return 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1); }

static void* worker(void* arg) {
  int me = (int)(long)arg;
  uint64_t x = seed(me);
  for (long i = 0; i < iterations; i++)
    for (int j = 0; j < STEPS_PER_UNIT; j++) x = step(x);
  sink[me] = x;
  return NULL;
}

/* A 64x64 matrix over GF(2) as its columns: m[j] is the image of bit j. */
typedef struct {
  uint64_t col[64];
} matrix;

static uint64_t apply(const matrix* m, uint64_t v) {
  uint64_t r = 0;
  for (int j = 0; j < 64; j++)
    if (v >> j & 1) r ^= m->col[j];
  return r;
}

static matrix multiply(const matrix* a, const matrix* b) { /* a after b */
  matrix r;
  for (int j = 0; j < 64; j++) r.col[j] = apply(a, b->col[j]);
  return r;
}

/* The state after n steps from x, in O(log n) matrix products. */
static uint64_t jump(uint64_t x, unsigned long n) {
  matrix power; /* step^(2^k) */
  for (int j = 0; j < 64; j++) power.col[j] = step(1ull << j);
  for (; n > 0; n >>= 1) {
    if (n & 1) x = apply(&power, x);
    power = multiply(&power, &power);
  }
  return x;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 10000000);
  double elapsed = bench_run_threads(THREADS, worker);
  for (int i = 0; i < THREADS; i++) {
    uint64_t expected = jump(seed(i), iterations * STEPS_PER_UNIT);
    if (sink[i] != expected) {
      fprintf(stderr, "bench: cpu_bound: thread %d got %016llx, expected %016llx\n", i,
              (unsigned long long)sink[i], (unsigned long long)expected);
      return 1;
    }
  }
  bench_report("cpu_bound", elapsed, THREADS * iterations);
  return 0;
}
