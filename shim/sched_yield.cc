#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int sched_yield() {
  ShimEntry entry(__func__);
  yield();
  return 0;
}

// glibc's headers redirect pthread_yield to sched_yield, so the old symbol,
// which binaries built against older headers still call, is named by asm label.
PTSHIM_EXPORT int deprecated_pthread_yield() __asm__("pthread_yield");
PTSHIM_EXPORT int deprecated_pthread_yield() {
  ShimEntry entry("pthread_yield");
  yield();
  return 0;
}
