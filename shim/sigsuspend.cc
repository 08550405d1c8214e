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
    Thread* self = current();
    uint64_t wanted = signal_mask_from_set(mask);
    if (!signal_alarm_held_for(wanted)) {
      if (lone_thread_may_block()) {
        // ptshim's handler judges a program SIGALRM by the thread's mask,
        // which is the suspend mask while the kernel waits.
        uint64_t saved = signal_mask_swap(self, wanted);
        uint64_t kernel = signal_mask_kernel_form(wanted);
        long r =
            arch::raw_syscall(SYS_rt_sigsuspend, reinterpret_cast<long>(&kernel), sizeof kernel);
        signal_mask_swap(self, saved);
        errno = static_cast<int>(-r);
        return -1;
      }
      while (!deliverable_pending(mask) && !signal_alarm_held_for(wanted)) {
        sleep_until(monotonic_now_ns() + kPollNs);
        if (self->cancel_pending && !self->cancel_disabled) break;
      }
    }
  }
  // The suspend mask for a moment, then the thread's own again: what it lets
  // through (pending in the kernel, or a held SIGALRM) is raised as the first
  // call ends, and the program's handler runs.
  sigset_t old;
  pthread_sigmask(SIG_SETMASK, mask, &old);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
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
