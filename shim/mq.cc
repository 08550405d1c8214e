// mq_receive, mq_timedreceive, mq_send, mq_timedsend: cancellation points
// (POSIX). A message queue descriptor polls like an fd (readable while it
// holds a message, writable while it has room), so a call that would wait
// parks its thread on it, until the deadline for the timed ones, then is
// made for real; a non-blocking queue goes straight to the kernel.
#include <mqueue.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
// `op()` makes the call (with the caller's timeout, which the kernel checks)
// once the queue is ready for `events`; -ETIMEDOUT once `abstime` (CLOCK_REALTIME,
// null: none) passes first.
template <typename Op>
long mq_call(const char* function, mqd_t queue, short events, const timespec* abstime, Op op) {
  return at_cancellation_point(function, [&]() -> long {
    // (A deadline on virtual time is the scheduler's to keep.)
    if ((abstime == nullptr || !g_virtual_clock.on) && lone_thread_may_block()) return op();
    uint64_t deadline = 0;
    for (;;) {
      pollfd p{queue, events, 0};
      if (poll_now(&p, 1) != 0 || fd_is_nonblocking(queue)) return op();
      if (abstime != nullptr && deadline == 0) {
        if (int bad = deadline_from_abstime(CLOCK_REALTIME, abstime, &deadline)) return -bad;
      }
      WakeReason reason = io_block(&p, 1, deadline);
      if (reason == WakeReason::kTimedOut) return -ETIMEDOUT;
      if (reason == WakeReason::kInterrupted ||
          (reason == WakeReason::kSignaled && !signal_wait_restarts())) {
        return -EINTR;
      }
    }
  });
}

long receive(mqd_t queue, char* message, size_t size, unsigned* priority, const timespec* abstime) {
  return arch::raw_syscall(SYS_mq_timedreceive, queue, reinterpret_cast<long>(message),
                           static_cast<long>(size), reinterpret_cast<long>(priority),
                           reinterpret_cast<long>(abstime));
}

long send(mqd_t queue, const char* message, size_t size, unsigned priority,
          const timespec* abstime) {
  return arch::raw_syscall(SYS_mq_timedsend, queue, reinterpret_cast<long>(message),
                           static_cast<long>(size), priority, reinterpret_cast<long>(abstime));
}
}  // namespace

PTSHIM_EXPORT ssize_t mq_timedreceive(mqd_t queue, char* message, size_t size, unsigned* priority,
                                      const timespec* abstime) {
  return mq_call(__func__, queue, POLLIN, abstime,
                 [&] { return receive(queue, message, size, priority, abstime); });
}

PTSHIM_EXPORT ssize_t mq_receive(mqd_t queue, char* message, size_t size, unsigned* priority) {
  return mq_call(__func__, queue, POLLIN, nullptr,
                 [&] { return receive(queue, message, size, priority, nullptr); });
}

PTSHIM_EXPORT int mq_timedsend(mqd_t queue, const char* message, size_t size, unsigned priority,
                               const timespec* abstime) {
  return static_cast<int>(mq_call(__func__, queue, POLLOUT, abstime,
                                  [&] { return send(queue, message, size, priority, abstime); }));
}

PTSHIM_EXPORT int mq_send(mqd_t queue, const char* message, size_t size, unsigned priority) {
  return static_cast<int>(mq_call(__func__, queue, POLLOUT, nullptr,
                                  [&] { return send(queue, message, size, priority, nullptr); }));
}
