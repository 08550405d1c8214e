/* create_join: create a thread that does nothing and join it, N times.
 * ns_per_op = elapsed / N. */
#include <pthread.h>

#include "bench_common.h"

static void* nothing(void* arg) { return arg; }

int main(int argc, char** argv) {
  long iterations = bench_iterations(argc, argv, 15000);
  double t0 = bench_now_ns();
  for (long i = 0; i < iterations; i++) {
    pthread_t t;
    void* ret = NULL;
    bench_check(pthread_create(&t, NULL, nothing, (void*)(i + 1)), "pthread_create");
    bench_check(pthread_join(t, &ret), "pthread_join");
    if (ret != (void*)(i + 1)) {
      fprintf(stderr, "bench: create_join: thread %ld returned %p\n", i, ret);
      return 1;
    }
  }
  double t1 = bench_now_ns();
  bench_report("create_join", t1 - t0, iterations);
  return 0;
}
