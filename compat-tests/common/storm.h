/* Helpers for the "storm" tests (many threads hammering one facility under a
 * short timeslice): the run length from argv, a per-thread pseudo-random
 * generator, a busy loop that makes no calls (so a timer preemption can land
 * in it), and a detector of "another thread ran meanwhile".
 *
 * Usable from C and C++, like check.h (include check.h first). */
#ifndef COMPAT_STORM_H
#define COMPAT_STORM_H

#include <stdint.h>
#include <stdlib.h>

/* argv[index] as a positive number, or `fallback` when absent. A malformed or
 * out-of-range value stops the program (status 1) with a CHECK report. */
static inline long storm_arg(int argc, char** argv, int index, long fallback, long max) {
  if (index >= argc) return fallback;
  char* end = NULL;
  long value = strtol(argv[index], &end, 10);
  CHECK_MSG(end != argv[index] && *end == '\0' && value > 0 && value <= max,
            "argument %d '%s': want a number from 1 to %ld", index, argv[index], max);
  return value;
}

/* The end of a storm run that starts at `start`: argv[index] milliseconds
 * later (1 to 600000), or 1500 ms when the argument is absent. */
static inline int64_t storm_deadline(int argc, char** argv, int index, int64_t start) {
  return start + storm_arg(argc, argv, index, 1500, 600000) * NS_PER_MS;
}

/* xorshift64*: small, fast and good enough to vary sizes and operations. */
static inline uint64_t storm_rand(uint64_t* state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 2685821657736338717ULL;
}

static inline uint64_t storm_seed(int thread) {
  return 0x9E3779B97F4A7C15ULL * (uint64_t)(thread + 1) + 0x1234567ULL;
}

/* Burn CPU in the program's own code, making no call at all. */
static inline void storm_spin(unsigned long iterations) {
  for (unsigned long i = 0; i < iterations; i++) __asm__ volatile("" ::: "memory");
}

/* Which thread ran last: a thread that stores its id before a spin and finds
 * another id after it was switched out (preempted) in between. */
static volatile int storm_last_runner = -1;

/* Spin like storm_spin and report whether another thread ran meanwhile. */
static inline int storm_spin_watch(int self, unsigned long iterations) {
  storm_last_runner = self;
  int switched = 0;
  for (unsigned long i = 0; i < iterations; i++) {
    __asm__ volatile("" ::: "memory");
    if (storm_last_runner != self) {
      switched = 1;
      storm_last_runner = self;
    }
  }
  return switched;
}

#endif /* COMPAT_STORM_H */
