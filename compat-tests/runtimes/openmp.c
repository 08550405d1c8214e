/* OpenMP (libgomp) under one kernel thread: parallel for with a reduction,
 * critical, barriers, tasks, single/master. libgomp waits with its own
 * futex system calls and spin loops; they must not hang the process. Run
 * with the default (spin, then sleep) and the passive wait policy. */
#include <omp.h>

#include "check.h"

static long fib(int n) {
  if (n < 2) return n;
  long a, b;
#pragma omp task shared(a)
  a = fib(n - 1);
#pragma omp task shared(b)
  b = fib(n - 2);
#pragma omp taskwait
  return a + b;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  long sum = 0;
  int team = 0, in_critical = 0, max_in_critical = 0, after_barrier = 0;
#pragma omp parallel for reduction(+ : sum) num_threads(4)
  for (long i = 0; i < 2000000; i++) sum += i % 7;
  CHECK_MSG(sum == 5999995, "reduction gave %ld", sum);

#pragma omp parallel num_threads(4)
  {
    CHECK_ON_MAIN_KERNEL_THREAD();
#pragma omp critical
    {
      team++;
      in_critical++;
      if (in_critical > max_in_critical) max_in_critical = in_critical;
      in_critical--;
    }
#pragma omp barrier
#pragma omp atomic
    after_barrier += team;
  }
  CHECK_MSG(team == 4 && max_in_critical == 1, "team %d, %d in critical", team, max_in_critical);
  CHECK_MSG(after_barrier == 16, "barrier let threads through early (%d)", after_barrier);

  long f = 0;
#pragma omp parallel num_threads(4)
#pragma omp single
  f = fib(18);
  CHECK_MSG(f == 2584, "fib(18) by tasks gave %ld", f);
  CHECK_ONE_KERNEL_THREAD();
  printf("openmp: reduction, critical, barrier and tasks right on one kernel thread\n");
  return 0;
}
