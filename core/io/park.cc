// The exception to the safe-point rule (core/sched/preempt.cc): a thread
// blocked in the kernel in a call ptshim does not interpose is parked on what
// it waits for, and the others run meanwhile. Inside libc it holds no lock
// then (stdio's are off) and is not inside malloc; what it may hold is the
// FILE it reads, which another thread using the same FILE meanwhile could
// disturb.
#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>

#include "core/io/io.h"

namespace ptshim {

bool io_park_interrupted_call(const void* ucontext) {
  long number, args[4];
  if (current()->file_locks_held != 0 || on_signal_stack() ||
      !arch::interrupted_syscall(ucontext, &number, args)) {
    return false;
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
