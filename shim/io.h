// Blocking I/O without blocking the kernel thread (core/io/io.cc): a call that
// would block parks only its thread until the fd is ready, then is made for
// real. Every call here is a cancellation point.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "shim/shim.h"

namespace ptshim {

inline bool fd_is_nonblocking(int fd) {
  long flags = arch::raw_syscall(SYS_fcntl, fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

// A zero-timeout readiness check. The kernel fails even a zero-timeout poll
// with EINTR when a signal handler ran meanwhile — ptshim's own timer tick
// included — so EINTR here means "look again", never "ready".
template <typename Check>
long check_now(Check check) {
  long r;
  do {
    r = check();
  } while (r == -EINTR);
  return r;
}

// One zero-timeout ppoll (with `mask` as the signal mask while it runs, if
// given): the ready count or -errno.
inline long poll_zero(pollfd* fds, size_t count, const sigset_t* mask = nullptr) {
  timespec zero{0, 0};
  return arch::raw_syscall(SYS_ppoll, reinterpret_cast<long>(fds), static_cast<long>(count),
                           reinterpret_cast<long>(&zero), reinterpret_cast<long>(mask),
                           mask != nullptr ? NSIG / 8 : 0);
}

inline long poll_now(pollfd* fds, size_t count) {
  return check_now([&] { return poll_zero(fds, count); });
}

// Up to this size a write to a ready pipe or socket does not block (POLLOUT
// means at least a page of room).
inline constexpr size_t kAtomicWrite = 4096;

// waitpid(pid, status, 0) for ptshim's own use (system): parks the caller
// like wait4, but goes on waiting through handlers and cancellation requests.
pid_t wait_for_child_uncancellable(pid_t pid, int* status);

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
  if (lone_thread_may_block()) return libc_result(op());  // nobody else to run: just block
  for (;;) {
    pollfd p{fd, events, 0};
    if (poll_now(&p, 1) != 0 || fd_is_nonblocking(fd)) {
      return libc_result(op());
    }
    WakeReason reason = io_block(&p, 1, 0);
    // A handler that ran meanwhile restarts the call only with SA_RESTART.
    if (reason == WakeReason::kInterrupted ||
        (reason == WakeReason::kSignaled && !signal_wait_restarts())) {
      return libc_result(-EINTR);
    }
  }
}

// True for the kinds of fd whose writes can block: pipes, sockets, terminals
// and other devices (not regular files).
inline bool fd_may_block(int fd) {
  struct stat st;
  if (arch::raw_syscall(SYS_fstat, fd, reinterpret_cast<long>(&st)) != 0) return false;
  return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISBLK(st.st_mode);
}

// A blocking write bigger than the room a pipe or socket has: in the kernel
// it would block the one kernel thread (and a timer tick would cut it
// short). It is made of non-blocking writes (`op(done)` writes from offset
// `done` without blocking), parked for room in between, until everything is
// written — as a blocking write does — or an error comes; an error after
// some bytes were written returns the count, as the kernel does.
template <typename Op>
long write_fully(int fd, size_t len, Op op) {
  size_t done = 0;
  while (done < len) {
    long r = op(done);
    if (r > 0) {
      done += static_cast<size_t>(r);
      continue;
    }
    if (r == -EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      WakeReason reason = io_block(&p, 1, 0);
      if (reason == WakeReason::kInterrupted ||
          (reason == WakeReason::kSignaled && !signal_wait_restarts())) {
        break;
      }
      continue;
    }
    if (done == 0) return libc_result(r);
    break;
  }
  return done == 0 && len != 0 ? libc_result(-EINTR) : static_cast<long>(done);
}

// A write that may block, on a blocking fd: made non-blocking for the one
// system call (the flag is the open file's, so it is restored at once, before
// any other thread can run).
inline long write_without_blocking(int fd, long flags, long number, long a1, long a2, long a3) {
  arch::raw_syscall(SYS_fcntl, fd, F_SETFL, flags | O_NONBLOCK);
  long r = arch::raw_syscall(number, fd, a1, a2, a3);
  arch::raw_syscall(SYS_fcntl, fd, F_SETFL, flags);
  return r;
}

// A call POSIX makes a cancellation point that ptshim otherwise leaves to
// the kernel as it is (close, fsync, pread, ...): a pending request is acted
// on at entry and at exit. Called from inside the core (a library ptshim
// uses), it is only the call.
template <typename Call>
long at_cancellation_point(const char* function, Call call) {
  ShimEntry entry(function);
  if (entry.nested()) return libc_result(call());
  CancellationPoint cancellation_point;
  return libc_result(call());
}

// A blocking call with a non-blocking form but nothing to poll (a record
// lock, a SysV message, a child's change): `try_once()` makes the
// non-blocking form and returns the raw result; while `would_block(result)`,
// the thread sleeps in the scheduler a millisecond at a time, so the others
// run meanwhile. A cancellation request or a handler without SA_RESTART
// ends it with -EINTR, as the kernel's call. Returns the raw result.
template <typename Try, typename WouldBlock>
long retry_every_ms(Try try_once, WouldBlock would_block) {
  constexpr uint64_t kRetryNs = 1'000'000;
  for (;;) {
    long r = try_once();
    if (!would_block(r)) return r;
    WakeReason reason = sleep_until(monotonic_now_ns() + kRetryNs);
    if (reason == WakeReason::kInterrupted ||
        (reason == WakeReason::kSignaled && !signal_wait_restarts())) {
      return -EINTR;
    }
  }
}

}  // namespace ptshim
