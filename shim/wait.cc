// wait, waitpid, wait4, waitid: the caller looks with WNOHANG and, while no
// child it waits for has changed state, sleeps in the scheduler until the
// next SIGCHLD (core/signal/child.cc), so the other threads run meanwhile.
// A handler that runs on the waiting thread ends the wait with EINTR unless
// it has SA_RESTART, as the kernel's wait4 and waitid do.
#include <sys/resource.h>
#include <sys/wait.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
// Repeats `look` (a WNOHANG call: 0 while nothing changed) until it finds a
// change or an error, or the wait is cut short.
template <typename Look>
long wait_for_child(Look look) {
  struct InWait {
    InWait() { child_wait_begin(); }
    ~InWait() { child_wait_end(); }
  } in_wait;
  for (;;) {
    uint64_t changes = child_changes();
    long r = look();
    if (r != 0) return r;
    WakeReason reason = child_wait(changes);
    Thread* self = current();
    if ((self->cancel_pending && !self->cancel_disabled) ||
        (reason == WakeReason::kSignaled && !signal_wait_restarts())) {
      return -EINTR;
    }
  }
}
}  // namespace

namespace ptshim {
pid_t wait_for_child_uncancellable(pid_t pid, int* status) {
  ShimEntry entry(__func__);
  auto look = [&] {
    return arch::raw_syscall(SYS_wait4, pid, reinterpret_cast<long>(status), WNOHANG, 0);
  };
  if (lone_thread_may_block()) {
    long r;
    do {
      r = arch::raw_syscall(SYS_wait4, pid, reinterpret_cast<long>(status), 0, 0);
    } while (r == -EINTR);
    return static_cast<pid_t>(libc_result(r));
  }
  child_wait_begin();
  long r;
  for (;;) {
    uint64_t changes = child_changes();
    if ((r = look()) != 0) break;
    child_wait(changes);  // a handler that ran, a cancellation request: wait on
  }
  child_wait_end();
  return static_cast<pid_t>(libc_result(r));
}
}  // namespace ptshim

PTSHIM_EXPORT pid_t wait4(pid_t pid, int* status, int options, rusage* usage) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  auto call = [&](int with) {
    return arch::raw_syscall(SYS_wait4, pid, reinterpret_cast<long>(status), with,
                             reinterpret_cast<long>(usage));
  };
  if ((options & WNOHANG) != 0 || lone_thread_may_block()) {  // nobody else to run: just block
    return static_cast<pid_t>(libc_result(call(options)));
  }
  return static_cast<pid_t>(libc_result(wait_for_child([&] { return call(options | WNOHANG); })));
}

PTSHIM_EXPORT pid_t waitpid(pid_t pid, int* status, int options) {
  return wait4(pid, status, options, nullptr);
}

PTSHIM_EXPORT pid_t wait(int* status) { return wait4(-1, status, 0, nullptr); }

PTSHIM_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t* info, int options) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  siginfo_t own;
  siginfo_t* found = info != nullptr ? info : &own;  // the kernel accepts a null one
  auto call = [&](int with) {
    return arch::raw_syscall(SYS_waitid, idtype, static_cast<long>(id),
                             reinterpret_cast<long>(found), with, 0);
  };
  if ((options & WNOHANG) != 0 || lone_thread_may_block()) {
    return static_cast<int>(libc_result(call(options)));
  }
  // With WNOHANG, waitid returns 0 whether or not it found a change: one
  // found has a pid.
  long r = wait_for_child([&] {
    found->si_pid = 0;
    long looked = call(options | WNOHANG);
    return looked == 0 && found->si_pid != 0 ? 1 : looked;
  });
  return static_cast<int>(libc_result(r == 1 ? 0 : r));
}
