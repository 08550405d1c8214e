/* Many OpenMP barriers at the default timeslice. libgomp waits at a barrier
 * with its own `syscall` instruction (FUTEX_WAIT); on one kernel thread such
 * a wait must park only its thread, never put the process to sleep in the
 * kernel while a teammate could run. The check counts the process's
 * voluntary context switches (each kernel sleep is one): parked waits make
 * none, kernel waits one per barrier, and the run would take a timeslice per
 * barrier (minutes: the timeout stops it). */
#include <omp.h>
#include <sys/resource.h>

#include "check.h"

enum { kRegions = 2000, kBarriersPerRegion = 4 };

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  double total = 0;
  long passed = 0;
  for (int r = 0; r < kRegions; r++) {
    double s = 0;
#pragma omp parallel for reduction(+ : s) num_threads(4)
    for (int i = 0; i < 4000; i++) s += (i % 7) * 0.5;
    total += s;
#pragma omp parallel num_threads(4)
    for (int b = 0; b < kBarriersPerRegion; b++) {
#pragma omp atomic
      passed++;
#pragma omp barrier
    }
  }
  CHECK_MSG(total == kRegions * 5997.0, "reductions gave %.1f", total);
  CHECK_MSG(passed == (long)kRegions * kBarriersPerRegion * 4, "%ld barrier passes", passed);
  CHECK_ONE_KERNEL_THREAD();
  struct rusage ru;
  CHECK_RC(getrusage(RUSAGE_SELF, &ru), 0);
  long waits = (long)kRegions * (kBarriersPerRegion + 2);
  CHECK_MSG(ru.ru_nvcsw < waits / 20,
            "the kernel thread slept %ld times for %ld barrier waits: waits were not parked",
            ru.ru_nvcsw, waits);
  printf("openmp_barriers: %ld barriers, the kernel thread slept %ld times\n", waits, ru.ru_nvcsw);
  return 0;
}
