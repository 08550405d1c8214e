/* yield_pingpong: two threads each call sched_yield() N times.
 * ns_per_op = elapsed / (2N): on one CPU (or one kernel thread) every yield
 * is a switch to the other thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "bench_common.h"

static long iterations;
static pthread_barrier_t start;

static void* yielder(void* arg) {
  (void)arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < iterations; i++) sched_yield();
  return NULL;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 1000000);
  bench_check(pthread_barrier_init(&start, NULL, 3), "pthread_barrier_init");
  pthread_t a, b;
  bench_check(pthread_create(&a, NULL, yielder, NULL), "pthread_create");
  bench_check(pthread_create(&b, NULL, yielder, NULL), "pthread_create");
  pthread_barrier_wait(&start);
  double t0 = bench_now_ns();
  bench_check(pthread_join(a, NULL), "pthread_join");
  bench_check(pthread_join(b, NULL), "pthread_join");
  double t1 = bench_now_ns();
  bench_report("yield_pingpong", t1 - t0, 2 * iterations);
  return 0;
}
