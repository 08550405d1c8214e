// sigwait, sigwaitinfo, sigtimedwait: the caller waits in the scheduler, so
// the other threads run meanwhile, instead of blocking the one kernel
// thread. The kernel has no "signal became pending" event for a user thread,
// so the wait polls (sigtimedwait with a zero timeout) every millisecond.
// These are cancellation points. SIGALRM is never blocked in the kernel
// (ptshim's ticks); a program SIGALRM that the running thread blocked is held
// for them by core/signal/mask.cc.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
constexpr uint64_t kPollNs = 1000000;

// The signal taken (> 0), or an error number negated; deadline 0: none.
int wait_for_signal(const sigset_t* set, siginfo_t* info, uint64_t deadline_ns) {
  siginfo_t scratch;
  timespec zero{0, 0};
  for (;;) {
    if (sigismember(set, SIGALRM) == 1 && signal_take_held_alarm()) {
      if (info != nullptr) {
        memset(info, 0, sizeof *info);
        info->si_signo = SIGALRM;
        info->si_code = SI_KERNEL;
      }
      return SIGALRM;
    }
    long sig = arch::raw_syscall(SYS_rt_sigtimedwait, reinterpret_cast<long>(set),
                                 reinterpret_cast<long>(info != nullptr ? info : &scratch),
                                 reinterpret_cast<long>(&zero), NSIG / 8);
    if (sig > 0) return static_cast<int>(sig);
    if (sig != -EAGAIN && sig != -EINTR) return static_cast<int>(sig);
    uint64_t now = monotonic_now_ns();
    if (deadline_ns != 0 && now >= deadline_ns) return -EAGAIN;
    uint64_t next = now + kPollNs;
    sleep_until(deadline_ns != 0 && deadline_ns < next ? deadline_ns : next);
    if (current()->cancel_pending && !current()->cancel_disabled) return -ECANCELED;
  }
}
}  // namespace

PTSHIM_EXPORT int sigwait(const sigset_t* set, int* sig) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  int got = wait_for_signal(set, nullptr, 0);
  if (got < 0) return got == -ECANCELED ? EINTR : -got;
  *sig = got;
  return 0;
}

PTSHIM_EXPORT int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  int got = wait_for_signal(set, info, 0);
  if (got < 0) {
    errno = got == -ECANCELED ? EINTR : -got;
    return -1;
  }
  return got;
}

PTSHIM_EXPORT int sigtimedwait(const sigset_t* set, siginfo_t* info, const timespec* timeout) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  uint64_t deadline = 0;
  if (timeout != nullptr) {
    if (int bad = deadline_from_relative(timeout, &deadline)) {
      errno = bad;
      return -1;
    }
    if (deadline == 0) deadline = 1;
  }
  int got = wait_for_signal(set, info, deadline);
  if (got < 0) {
    errno = got == -ECANCELED ? EINTR : -got;
    return -1;
  }
  return got;
}
