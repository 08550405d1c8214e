/* clock_read: one thread (while another exists and sleeps in a join) reads
 * CLOCK_MONOTONIC N times with clock_gettime. ns_per_op = elapsed / N: what
 * an ordinary clock read costs (the vDSO natively; under ptshim, which
 * interposes clock_gettime for the CPU-time clocks, one test more). */
#define _GNU_SOURCE
#include <time.h>

#include "bench_common.h"

static long iterations;
static volatile long sink;

static void* reader(void* arg) {
  (void)arg;
  struct timespec ts;
  double t0 = bench_now_ns();
  for (long i = 0; i < iterations; i++) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sink += ts.tv_nsec;
  }
  double t1 = bench_now_ns();
  bench_report("clock_read", t1 - t0, iterations);
  return NULL;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 20000000);
  pthread_t t;
  bench_check(pthread_create(&t, NULL, reader, NULL), "pthread_create");
  bench_check(pthread_join(t, NULL), "pthread_join");
  return 0;
}
