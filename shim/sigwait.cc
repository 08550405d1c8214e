// sigwait, sigwaitinfo, sigtimedwait: the caller waits in the scheduler, so
// the other threads run meanwhile, instead of blocking the one kernel
// thread. A signal of the set comes to it one of three ways:
// - held by ptshim: directed at this thread (pthread_kill) or at the process
//   (a program SIGALRM nobody accepted) before the call: taken at once;
// - handed over while it waits: a signal ptshim routes (pthread_kill, or one
//   the kernel delivered because some thread accepts it) goes to a thread in
//   sigwait for it, which counts as accepting it (core/signal);
// - pending in the kernel, because every thread blocks it, as the pattern
//   wants: the waiter watches a signalfd for the set (a pollfd in the
//   scheduler's I/O wait, core/io), and takes the signal with a zero-timeout
//   rt_sigtimedwait once it is readable.
// These are cancellation points. sigwaitinfo and sigtimedwait fail with
// EINTR when a handler for another signal runs on the waiting thread;
// sigwait waits on, as glibc's does.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
// Waits for a hand-over, for the kernel to hold one of `wanted`, for a
// handler to run, for a cancellation request or for the deadline.
WakeReason wait_in_scheduler(Thread* self, uint64_t wanted, siginfo_t* out, uint64_t deadline_ns) {
  self->sigwait_set = wanted;
  self->sigwait_info = out;
  self->sigwait_taken = 0;
  // SIGALRM and the faults never wait in the kernel (ptshim keeps them
  // unblocked there): only a hand-over brings those.
  uint64_t kernel_held = wanted & ~signals_always_delivered();
  long fd = -1;
  if (kernel_held != 0) {
    fd = arch::raw_syscall(SYS_signalfd4, -1, reinterpret_cast<long>(&kernel_held),
                           sizeof kernel_held, SFD_NONBLOCK | SFD_CLOEXEC);
  }
  WakeReason reason;
  if (fd >= 0) {
    pollfd p{static_cast<int>(fd), POLLIN, 0};
    reason = io_block(&p, 1, deadline_ns);
    arch::raw_syscall(SYS_close, fd);
  } else {
    reason = block(nullptr, WaitKind::kSleep, nullptr, deadline_ns);
  }
  self->sigwait_set = 0;
  return reason;
}

// The signal taken (> 0), or an error number negated; deadline 0: none.
int wait_for_signal(const sigset_t* set, siginfo_t* info, uint64_t deadline_ns,
                    bool handler_interrupts) {
  Thread* self = current();
  uint64_t wanted = signal_mask_from_set(set);
  siginfo_t scratch;
  siginfo_t* out = info != nullptr ? info : &scratch;
  for (;;) {
    if (int sig = signal_take_held(self, wanted, out)) return sig;
    timespec zero{0, 0};
    long sig =
        arch::raw_syscall(SYS_rt_sigtimedwait, reinterpret_cast<long>(set),
                          reinterpret_cast<long>(out), reinterpret_cast<long>(&zero), NSIG / 8);
    if (sig > 0) return static_cast<int>(sig);
    if (sig == -EINTR) {  // a program signal arrived meanwhile: it may be ours
      signal_route_arrivals();
      continue;
    }
    if (sig != -EAGAIN) return static_cast<int>(sig);
    if (deadline_ns != 0 && monotonic_now_ns() >= deadline_ns) return -EAGAIN;
    WakeReason reason = wait_in_scheduler(self, wanted, out, deadline_ns);
    if (self->sigwait_taken != 0) return self->sigwait_taken;
    if (reason == WakeReason::kInterrupted) return -ECANCELED;
    if (reason == WakeReason::kSignaled && handler_interrupts) return -EINTR;
    // Readable, timed out, or a handler ran for sigwait: look again.
  }
}

int as_errno(int got) { return got == -ECANCELED ? EINTR : -got; }
}  // namespace

PTSHIM_EXPORT int sigwait(const sigset_t* set, int* sig) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  int got = wait_for_signal(set, nullptr, 0, false);
  if (got < 0) return as_errno(got);
  *sig = got;
  return 0;
}

PTSHIM_EXPORT int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  int got = wait_for_signal(set, info, 0, true);
  if (got < 0) {
    errno = as_errno(got);
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
  int got = wait_for_signal(set, info, deadline, true);
  if (got < 0) {
    errno = as_errno(got);
    return -1;
  }
  return got;
}
