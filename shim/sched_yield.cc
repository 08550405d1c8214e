// sched_yield puts the caller behind the runnable threads of its priority
// (core/sched). When none of them ranks as high, the caller runs on, and the
// kernel's own sched_yield lets the other processes on the CPU have it, as
// it would for a thread that is alone at its priority.
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
// Out of line: the system call's registers would cost every yield a frame.
[[gnu::noinline]] void yield_to_processes() { arch::raw_syscall(SYS_sched_yield); }

// A seeded policy may draw the caller itself while others are runnable:
// they could have run, so no kernel sched_yield is owed to other processes.
void yield_to_threads_or_processes() {
  if (!yield() && !(g_policy_sees_every_point && g_policy->any_runnable())) yield_to_processes();
}
}  // namespace

PTSHIM_EXPORT int sched_yield() {
  ShimEntry entry(__func__);
  yield_to_threads_or_processes();
  return 0;
}

// glibc's headers redirect pthread_yield to sched_yield, so the old symbol,
// which binaries built against older headers still call, is named by asm label.
PTSHIM_EXPORT int deprecated_pthread_yield() __asm__("pthread_yield");
PTSHIM_EXPORT int deprecated_pthread_yield() {
  ShimEntry entry("pthread_yield");
  yield_to_threads_or_processes();
  return 0;
}
