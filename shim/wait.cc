// waitpid, wait, wait4, waitid: the caller checks with WNOHANG and, while its child
// has not changed state, sleeps in the scheduler a millisecond at a time,
// so the other threads run meanwhile. The polling stays: the kernel's event
// for a child's change, SIGCHLD, is discarded unless the program catches it
// (its default action ignores it), and catching it on the program's behalf
// would interrupt the program's other calls. A handler that runs on the
// waiting thread ends the wait with EINTR unless it has SA_RESTART, as the
// kernel's wait4.
#include <sys/resource.h>
#include <sys/wait.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
constexpr uint64_t kPollNs = 1000000;
}  // namespace

PTSHIM_EXPORT pid_t wait4(pid_t pid, int* status, int options, rusage* usage) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  if (lone_thread_may_block()) {  // nobody else to run: just block
    return static_cast<pid_t>(libc_result(arch::raw_syscall(
        SYS_wait4, pid, reinterpret_cast<long>(status), options, reinterpret_cast<long>(usage))));
  }
  for (;;) {
    long r = arch::raw_syscall(SYS_wait4, pid, reinterpret_cast<long>(status), options | WNOHANG,
                               reinterpret_cast<long>(usage));
    if (r != 0 || (options & WNOHANG) != 0) return static_cast<pid_t>(libc_result(r));
    WakeReason reason = sleep_until(monotonic_now_ns() + kPollNs);
    Thread* self = current();
    if ((self->cancel_pending && !self->cancel_disabled) ||
        (reason == WakeReason::kSignaled && !signal_wait_restarts())) {
      return static_cast<pid_t>(libc_result(-EINTR));
    }
  }
}

PTSHIM_EXPORT pid_t waitpid(pid_t pid, int* status, int options) {
  return wait4(pid, status, options, nullptr);
}

PTSHIM_EXPORT pid_t wait(int* status) { return wait4(-1, status, 0, nullptr); }

PTSHIM_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t* info, int options) {
  return static_cast<int>(at_cancellation_point(__func__, [&] {
    auto call = [&](int how) {
      return arch::raw_syscall(SYS_waitid, idtype, id, reinterpret_cast<long>(info), how, 0);
    };
    if ((options & WNOHANG) != 0 || lone_thread_may_block()) return call(options);
    // With WNOHANG and nothing to report, the kernel leaves si_pid 0.
    return retry_every_ms(
        [&] {
          info->si_pid = 0;
          return call(options | WNOHANG);
        },
        [&](long r) { return r == 0 && info->si_pid == 0; });
  }));
}
