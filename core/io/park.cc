// The exception to the safe-point rule (core/sched/preempt.cc): a thread
// blocked in the kernel in a call ptshim does not interpose is parked on what
// it waits for, and the others run meanwhile. Inside libc it holds no lock
// then (stdio's are off) and is not inside malloc; what it may hold is the
// FILE it reads, which another thread using the same FILE meanwhile could
// disturb.
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>

#include "core/io/io.h"

namespace ptshim {

namespace {
// A timed FUTEX_WAIT(_BITSET) inside libc (its internal condvars and
// semaphores; aio's helper threads wait so for work, a second at a time),
// which the tick ended with EINTR: the thread waits here instead, with the
// call's own timeout, and the call returns as the kernel's would have.
bool park_ended_futex_wait(void* ucontext, const long a[6]) {
  int op = static_cast<int>(a[1]);
  int cmd = op & FUTEX_CMD_MASK;
  if (cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET) return false;
  const auto* timeout = reinterpret_cast<const timespec*>(a[3]);
  uint64_t deadline = 0;
  if (timeout != nullptr) {
    clockid_t clock = (op & FUTEX_CLOCK_REALTIME) != 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    int bad = cmd == FUTEX_WAIT_BITSET ? deadline_from_abstime(clock, timeout, &deadline)
                                       : deadline_from_relative(timeout, &deadline);
    if (bad != 0) return false;
  }
  auto bitset = cmd == FUTEX_WAIT_BITSET ? static_cast<uint32_t>(a[5]) : FUTEX_BITSET_MATCH_ANY;
  WakeReason reason = futex_wait(reinterpret_cast<const uint32_t*>(a[0]),
                                 static_cast<uint32_t>(a[2]), bitset, deadline);
  // Woken, or the word changed: 0, which futex(2) allows to be spurious.
  arch::set_interrupted_syscall_result(ucontext, reason == WakeReason::kTimedOut ? -ETIMEDOUT : 0);
  return true;
}
}  // namespace

bool io_park_interrupted_call(void* ucontext) {
  long number, args[4];
  if (current()->file_locks_held != 0 || on_signal_stack()) return false;
  if (!arch::interrupted_syscall(ucontext, &number, args)) {
    long a[6];
    return arch::interrupted_syscall_ended(ucontext, a) &&
           arch::syscall_number_loaded_before(ucontext, SYS_futex) &&
           park_ended_futex_wait(ucontext, a);
  }
  short events;
  switch (number) {
    case SYS_read:
    case SYS_readv:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_accept:
    case SYS_accept4:
      events = POLLIN;
      break;
    case SYS_write:
    case SYS_writev:
    case SYS_sendto:
    case SYS_sendmsg:
      events = POLLOUT;
      break;
    case SYS_futex: {
      // Untimed waits only: a timed one is not restarted (the caller sees
      // EINTR and waits again, which needs nothing from us).
      long op = args[1] & FUTEX_CMD_MASK;
      if ((op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET) || args[3] != 0) return false;
      futex_block(reinterpret_cast<const uint32_t*>(args[0]), static_cast<uint32_t>(args[2]));
      return true;
    }
    default:
      return false;
  }
  pollfd p{static_cast<int>(args[0]), events, 0};
  io_block(&p, 1, 0);
  return true;
}

}  // namespace ptshim
