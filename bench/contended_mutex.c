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
  double elapsed = bench_run_threads(THREADS, worker);
  if (counter != THREADS * iterations) {
    fprintf(stderr, "bench: contended_mutex: counter %ld, expected %ld\n", counter,
            THREADS * iterations);
    return 1;
  }
  bench_report("contended_mutex", elapsed, THREADS * iterations);
  return 0;
}
