// msgrcv, msgsnd: cancellation points (POSIX). A System V message queue has
// no fd to poll: a call that would wait is tried with IPC_NOWAIT and, while
// it would block, the thread sleeps in the scheduler a millisecond at a time
// (shim/io.h, retry_every_ms).
#include <sys/msg.h>

#include "shim/io.h"

using namespace ptshim;

PTSHIM_EXPORT ssize_t msgrcv(int queue, void* message, size_t size, long type, int flags) {
  return at_cancellation_point(__func__, [&] {
    auto call = [&](int how) {
      return arch::raw_syscall(SYS_msgrcv, queue, reinterpret_cast<long>(message),
                               static_cast<long>(size), type, how);
    };
    if ((flags & IPC_NOWAIT) != 0 || lone_thread_may_block()) return call(flags);
    return retry_every_ms([&] { return call(flags | IPC_NOWAIT); },
                          [](long r) { return r == -ENOMSG; });
  });
}

PTSHIM_EXPORT int msgsnd(int queue, const void* message, size_t size, int flags) {
  return static_cast<int>(at_cancellation_point(__func__, [&] {
    auto call = [&](int how) {
      return arch::raw_syscall(SYS_msgsnd, queue, reinterpret_cast<long>(message),
                               static_cast<long>(size), how);
    };
    if ((flags & IPC_NOWAIT) != 0 || lone_thread_may_block()) return call(flags);
    return retry_every_ms([&] { return call(flags | IPC_NOWAIT); },
                          [](long r) { return r == -EAGAIN; });
  }));
}
