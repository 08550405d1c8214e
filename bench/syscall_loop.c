/* syscall_loop: one thread makes N getppid() calls through libc while another
 * thread exists (and sleeps in a join). ns_per_op = elapsed / N: what a
 * system call costs a multi-threaded program, natively and under ptshim,
 * which traps system calls made outside libc (syscall user dispatch) but not
 * those made inside it. */
#define _GNU_SOURCE
#include <unistd.h>

#include "bench_common.h"

static long iterations;

static void* caller(void* arg) {
  (void)arg;
  double t0 = bench_now_ns();
  for (long i = 0; i < iterations; i++) getppid();
  double t1 = bench_now_ns();
  bench_report("syscall_loop", t1 - t0, iterations);
  return NULL;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 1000000);
  pthread_t t;
  bench_check(pthread_create(&t, NULL, caller, NULL), "pthread_create");
  bench_check(pthread_join(t, NULL), "pthread_join");
  return 0;
}
