/* Shared helpers for the ptshim benchmarks: ordinary pthread programs that
 * know nothing of ptshim. Each prints one line:
 *   bench=<name> ns_per_op=<float> ops=<count>
 * (max_threads prints threads= and kib_per_thread= instead; see its comment).
 */
#ifndef PTSHIM_BENCH_COMMON_H
#define PTSHIM_BENCH_COMMON_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The iteration count: argv[1] if given (a positive integer), else dflt. */
static inline long bench_iterations(int argc, char** argv, long dflt) {
  if (argc < 2) return dflt;
  char* end = NULL;
  errno = 0;
  long n = strtol(argv[1], &end, 10);
  if (argc > 2 || errno != 0 || end == argv[1] || *end != '\0' || n <= 0) {
    fprintf(stderr, "usage: %s [ITERATIONS]   (a positive integer, default %ld)\n", argv[0], dflt);
    exit(2);
  }
  return n;
}

static inline void bench_check(int rc, const char* what) {
  if (rc != 0) {
    fprintf(stderr, "bench: %s: %s\n", what, strerror(rc));
    exit(1);
  }
}

/* Runs `count` threads of fn, thread i getting (void*)i, and joins them all;
 * returns the elapsed ns. */
static inline double bench_run_threads(int count, void* (*fn)(void*)) {
  pthread_t threads[64];
  if (count > 64) count = 64;
  double t0 = bench_now_ns();
  for (long i = 0; i < count; i++) {
    bench_check(pthread_create(&threads[i], NULL, fn, (void*)i), "pthread_create");
  }
  for (int i = 0; i < count; i++) bench_check(pthread_join(threads[i], NULL), "pthread_join");
  return bench_now_ns() - t0;
}

static inline void bench_report(const char* name, double elapsed_ns, long ops) {
  printf("bench=%s ns_per_op=%.1f ops=%ld\n", name, elapsed_ns / (double)ops, ops);
}

#endif
