// Blocking I/O without blocking the kernel thread (core/io.cc): a call that
// would block parks only its thread until the fd is ready, then is made for
// real. Every call here is a cancellation point.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>

#include "shim/shim.h"

namespace ptshim {

inline bool fd_is_nonblocking(int fd) {
  long flags = arch::raw_syscall(SYS_fcntl, fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

// A raw system call's result as libc returns it: -1 and errno on failure.
inline long libc_result(long r) {
  if (r < 0 && r > -4096) {
    errno = static_cast<int>(-r);
    return -1;
  }
  return r;
}

// Makes `op` (a raw system call on fd) once fd is ready for `events`, or at
// once if the fd is non-blocking (the program then gets EAGAIN itself).
// A regular file always polls ready.
template <typename Op>
long io_call(int fd, short events, Op op) {
  if (live_thread_count() == 1) return libc_result(op());  // nobody else to run: just block
  for (;;) {
    pollfd p{fd, events, 0};
    if (arch::raw_syscall(SYS_poll, reinterpret_cast<long>(&p), 1, 0) != 0 ||
        fd_is_nonblocking(fd)) {
      return libc_result(op());
    }
    if (io_block(&p, 1, 0) == WakeReason::kInterrupted) return libc_result(-EINTR);
  }
}

}  // namespace ptshim
