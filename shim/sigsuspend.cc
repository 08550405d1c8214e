// sigsuspend and pause wait for a signal handler to run. In the kernel they
// would block every thread, and return early for each of ptshim's timer
// ticks, so the caller waits in the scheduler instead: it polls (every
// millisecond) for a pending signal that its suspend mask lets through, then
// installs that mask so the handler runs, restores its own, and returns -1
// with EINTR, as the kernel's would. The pattern this serves: signals
// blocked in every thread and taken by one sigsuspend (lbzip2's, for one). A
// thread alone in the process makes the real call.
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
constexpr uint64_t kPollNs = 1000000;
constexpr long kSigsetBytes = NSIG / 8;

bool deliverable_pending(const sigset_t* mask) {
  sigset_t pending;
  if (arch::raw_syscall(SYS_rt_sigpending, reinterpret_cast<long>(&pending), kSigsetBytes) != 0) {
    return false;
  }
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&pending, sig) == 1 && sigismember(mask, sig) != 1) return true;
  }
  return false;
}
}  // namespace

PTSHIM_EXPORT int sigsuspend(const sigset_t* mask) {
  {
    ShimEntry entry(__func__);
    CancellationPoint cancellation_point;
    if (lone_thread_may_block()) {
      long r = arch::raw_syscall(SYS_rt_sigsuspend, reinterpret_cast<long>(mask), kSigsetBytes);
      errno = static_cast<int>(-r);
      return -1;
    }
    while (!deliverable_pending(mask)) {
      sleep_until(monotonic_now_ns() + kPollNs);
      Thread* self = current();
      if (self->cancel_pending && !self->cancel_disabled) break;
    }
  }
  // Outside the core: the handler is the program's.
  sigset_t old;
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(mask),
                    reinterpret_cast<long>(&old), kSigsetBytes);
  arch::raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&old), 0, kSigsetBytes);
  errno = EINTR;
  return -1;
}

PTSHIM_EXPORT int pause() {
  sigset_t mask;
  {
    ShimEntry entry(__func__);
    signal_mask_change(current(), SIG_BLOCK, nullptr, &mask);
  }
  return sigsuspend(&mask);
}
