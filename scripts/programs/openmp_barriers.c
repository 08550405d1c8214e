/* An ordinary OpenMP program for scripts/programs.sh (it knows nothing of
 * ptshim): ROUNDS parallel-for reductions, then ROUNDS steps of an integer
 * stencil with an explicit barrier between its two phases, so the team meets
 * at a barrier thousands of times. Integer arithmetic only, so the output is
 * the same whatever the thread that ran each chunk: it is compared with the
 * native run's byte for byte.
 *   openmp_barriers [ROUNDS [N]]   (defaults 2000 and 20000)
 */
#include <inttypes.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t mix(uint64_t x) { /* splitmix64's finaliser */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

int main(int argc, char** argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 2000;
  long n = argc > 2 ? atol(argv[2]) : 20000;
  if (rounds < 1 || n < 3) {
    fprintf(stderr, "usage: openmp_barriers [ROUNDS>0 [N>2]]\n");
    return 2;
  }

  /* Reductions: each is a fork, a join and an implicit barrier. */
  uint64_t total = 0;
  for (long r = 0; r < rounds; r++) {
    uint64_t sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
    for (long i = 0; i < n; i++) sum += mix((uint64_t)r * n + i) >> 8;
    total = total * 31 + sum;
  }

  /* A stencil in one parallel region: read a, write b, barrier, copy back,
   * barrier. A thread that passed a barrier early would read a half-written
   * array and change the checksum. */
  uint64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  if (!a || !b) return 1;
  for (long i = 0; i < n; i++) a[i] = mix(i);
  int team = 0;
#pragma omp parallel
  {
#pragma omp single
    team = omp_get_num_threads();
    for (long r = 0; r < rounds; r++) {
#pragma omp for schedule(static) nowait
      for (long i = 1; i < n - 1; i++) b[i] = a[i - 1] + (a[i] ^ (a[i + 1] >> 3));
#pragma omp barrier
#pragma omp for schedule(static) nowait
      for (long i = 1; i < n - 1; i++) a[i] = b[i];
#pragma omp barrier
    }
  }
  uint64_t stencil = 0;
  for (long i = 0; i < n; i++) stencil = stencil * 131 + a[i];
  free(a);
  free(b);

  printf("openmp_barriers: team %d, %ld rounds of %ld: reductions %016" PRIx64
         ", stencil %016" PRIx64 "\n",
         team, rounds, n, total, stencil);
  return 0;
}
