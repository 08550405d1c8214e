// poll, ppoll, select, pselect, epoll_wait, epoll_pwait: a zero-timeout
// check first; if nothing is ready and the caller would wait, it waits
// parked on the same fds (an epoll instance is itself pollable), then checks
// again. A signal mask given to ppoll/pselect/epoll_pwait applies to the
// checks, not to the parked wait.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
constexpr uint64_t kNsPerMs = 1000000;

// Repeats `check` (a zero-timeout call returning ready count or -errno)
// until it reports something, the deadline passes (0: never) or a
// cancellation request arrives; parks on `fds` in between.
template <typename Check>
long wait_ready(pollfd* fds, size_t count, uint64_t deadline_ns, bool wait, Check raw_check) {
  auto check = [&] { return check_now(raw_check); };
  // Alone, the thread may as well wait in the kernel: a ppoll on the same
  // fds until the deadline, then the real check. (Not for a deadline on
  // virtual time, which the scheduler keeps.)
  if (wait && (deadline_ns == 0 || !g_virtual_clock.on) && lone_thread_may_block()) {
    for (;;) {
      uint64_t now = monotonic_now_ns();
      timespec left = timespec_from_ns(deadline_ns > now ? deadline_ns - now : 0);
      bool expired = deadline_ns != 0 && deadline_ns <= now;
      long r = expired ? 0
                       : arch::raw_syscall(
                             SYS_ppoll, reinterpret_cast<long>(fds), static_cast<long>(count),
                             deadline_ns != 0 ? reinterpret_cast<long>(&left) : 0, 0, 0);
      if (r == -EINTR) return libc_result(r);  // a signal of the program's, as natively
      if (r != 0 || expired || deadline_ns != 0) return libc_result(check());
    }
  }
  for (;;) {
    long r = check();
    if (r != 0 || !wait) return libc_result(r);
    WakeReason reason = io_block(fds, count, deadline_ns);
    // The kernel never restarts these after a handler, SA_RESTART or not.
    if (reason == WakeReason::kInterrupted || reason == WakeReason::kSignaled) {
      return libc_result(-EINTR);
    }
    if (reason == WakeReason::kTimedOut) return libc_result(check());
  }
}

// A relative timeout as ppoll and pselect take it (null: none): its deadline,
// and whether the call may wait at all. 0 or EINVAL.
int relative_timeout(const timespec* timeout, uint64_t* deadline, bool* wait) {
  *deadline = 0;
  *wait = true;
  if (timeout == nullptr) return 0;
  if (int bad = deadline_from_relative(timeout, deadline)) return bad;
  *wait = timeout->tv_sec != 0 || timeout->tv_nsec != 0;
  return 0;
}

uint64_t deadline_after_ms(int timeout_ms) {
  return timeout_ms < 0 ? 0 : monotonic_now_ns() + static_cast<uint64_t>(timeout_ms) * kNsPerMs;
}

// select's sets as pollfds, on the caller's stack (at most FD_SETSIZE).
size_t sets_to_pollfds(int nfds, fd_set* r, fd_set* w, fd_set* e, pollfd* out) {
  size_t n = 0;
  for (int fd = 0; fd < nfds && fd < FD_SETSIZE; ++fd) {
    short events = 0;
    if (r != nullptr && FD_ISSET(fd, r)) events |= POLLIN;
    if (w != nullptr && FD_ISSET(fd, w)) events |= POLLOUT;
    if (e != nullptr && FD_ISSET(fd, e)) events |= POLLPRI;
    if (events != 0) out[n++] = pollfd{fd, events, 0};
  }
  return n;
}

int select_for(int nfds, fd_set* r, fd_set* w, fd_set* e, uint64_t deadline, bool wait,
               const sigset_t* mask) {
  pollfd fds[FD_SETSIZE];
  size_t count = sets_to_pollfds(nfds, r, w, e, fds);
  fd_set saved[3];
  fd_set* sets[3] = {r, w, e};
  for (int i = 0; i < 3; ++i) {
    if (sets[i] != nullptr) saved[i] = *sets[i];
  }
  return static_cast<int>(wait_ready(fds, count, deadline, wait, [&] {
    for (int i = 0; i < 3; ++i) {
      if (sets[i] != nullptr) *sets[i] = saved[i];  // select overwrites them
    }
    timespec zero{0, 0};
    struct {
      const sigset_t* set;
      size_t size;
    } sig{mask, NSIG / 8};
    return arch::raw_syscall(SYS_pselect6, nfds, reinterpret_cast<long>(r),
                             reinterpret_cast<long>(w), reinterpret_cast<long>(e),
                             reinterpret_cast<long>(&zero),
                             mask != nullptr ? reinterpret_cast<long>(&sig) : 0);
  }));
}

int epoll_for(int epfd, epoll_event* events, int max, int timeout_ms, const sigset_t* mask) {
  pollfd p{epfd, POLLIN, 0};
  return static_cast<int>(wait_ready(&p, 1, deadline_after_ms(timeout_ms), timeout_ms != 0, [&] {
    return arch::raw_syscall(SYS_epoll_pwait, epfd, reinterpret_cast<long>(events), max, 0,
                             reinterpret_cast<long>(mask), mask != nullptr ? NSIG / 8 : 0);
  }));
}
}  // namespace

PTSHIM_EXPORT int poll(pollfd* fds, nfds_t count, int timeout_ms) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return static_cast<int>(wait_ready(fds, count, deadline_after_ms(timeout_ms), timeout_ms != 0,
                                     [&] { return poll_zero(fds, count, nullptr); }));
}

PTSHIM_EXPORT int ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  uint64_t deadline;
  bool wait;
  if (int bad = relative_timeout(timeout, &deadline, &wait)) {
    return static_cast<int>(libc_result(-bad));
  }
  return static_cast<int>(
      wait_ready(fds, count, deadline, wait, [&] { return poll_zero(fds, count, mask); }));
}

PTSHIM_EXPORT int select(int nfds, fd_set* r, fd_set* w, fd_set* e, timeval* timeout) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  if (nfds < 0 || nfds > FD_SETSIZE) return static_cast<int>(libc_result(-EINVAL));
  uint64_t deadline = 0;
  bool wait = true;
  if (timeout != nullptr) {
    if (timeout->tv_sec < 0 || timeout->tv_usec < 0 || timeout->tv_usec >= 1000000) {
      return static_cast<int>(libc_result(-EINVAL));
    }
    timespec ts{timeout->tv_sec, timeout->tv_usec * 1000};
    deadline_from_relative(&ts, &deadline);
    wait = timeout->tv_sec != 0 || timeout->tv_usec != 0;
  }
  int ready = select_for(nfds, r, w, e, deadline, wait, nullptr);
  if (timeout != nullptr && ready >= 0) {
    // Linux reports the time left.
    uint64_t now = monotonic_now_ns();
    uint64_t left_us = deadline > now ? (deadline - now) / 1000 : 0;
    *timeout = timeval{static_cast<time_t>(left_us / 1000000),
                       static_cast<suseconds_t>(left_us % 1000000)};
  }
  return ready;
}

PTSHIM_EXPORT int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const timespec* timeout,
                          const sigset_t* mask) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  if (nfds < 0 || nfds > FD_SETSIZE) return static_cast<int>(libc_result(-EINVAL));
  uint64_t deadline;
  bool wait;
  if (int bad = relative_timeout(timeout, &deadline, &wait)) {
    return static_cast<int>(libc_result(-bad));
  }
  return select_for(nfds, r, w, e, deadline, wait, mask);
}

PTSHIM_EXPORT int epoll_wait(int epfd, epoll_event* events, int max, int timeout_ms) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return epoll_for(epfd, events, max, timeout_ms, nullptr);
}

PTSHIM_EXPORT int epoll_pwait(int epfd, epoll_event* events, int max, int timeout_ms,
                              const sigset_t* mask) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return epoll_for(epfd, events, max, timeout_ms, mask);
}
