/* contended_mutex: 4 threads each lock one shared default mutex, increment a
 * counter and unlock, N times. ns_per_op = elapsed / (4N), one
 * lock/increment/unlock. */
#include <pthread.h>

#include "bench_common.h"

#define THREADS 4

static long iterations;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void* worker(void* arg) {
  (void)arg;
  for (long i = 0; i < iterations; i++) {
    pthread_mutex_lock(&lock);
    counter++;
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 10000000);
  pthread_t t[THREADS];
  double t0 = bench_now_ns();
  for (int i = 0; i < THREADS; i++)
    bench_check(pthread_create(&t[i], NULL, worker, NULL), "pthread_create");
  for (int i = 0; i < THREADS; i++) bench_check(pthread_join(t[i], NULL), "pthread_join");
  double t1 = bench_now_ns();
  if (counter != THREADS * iterations) {
    fprintf(stderr, "bench: contended_mutex: counter %ld, expected %ld\n", counter,
            THREADS * iterations);
    return 1;
  }
  bench_report("contended_mutex", t1 - t0, THREADS * iterations);
  return 0;
}
