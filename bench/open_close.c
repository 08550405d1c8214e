/* open_close: one thread opens and closes /dev/null N times while another
 * thread exists (and sleeps in a join). ns_per_op = elapsed / N: what an
 * open and a close cost a multi-threaded program, natively and under
 * ptshim, which interposes both as cancellation points (an open that would
 * wait for a FIFO's other end is made interruptible by the tick). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "bench_common.h"

static long iterations;

static void* caller(void* arg) {
  (void)arg;
  double t0 = bench_now_ns();
  for (long i = 0; i < iterations; i++) {
    int fd = open("/dev/null", O_RDONLY);
    bench_check(fd < 0 ? errno : 0, "open");
    close(fd);
  }
  double t1 = bench_now_ns();
  bench_report("open_close", t1 - t0, iterations);
  return NULL;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 500000);
  pthread_t t;
  bench_check(pthread_create(&t, NULL, caller, NULL), "pthread_create");
  bench_check(pthread_join(t, NULL), "pthread_join");
  return 0;
}
