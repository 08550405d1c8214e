// fcntl, fcntl64, lockf, lockf64. A record lock that waits (F_SETLKW,
// F_OFD_SETLKW, lockf's F_LOCK) waits for another process, which would hold
// the one kernel thread: it is tried without waiting, and while the lock is
// held elsewhere the thread sleeps in the scheduler a millisecond at a time.
// F_SETLKW and F_LOCK are cancellation points (POSIX). Every other command
// goes to the kernel as glibc 2.36 passes it (F_GETOWN through
// F_GETOWN_EX, so a process group comes back negative).
#include <stdarg.h>
#include <unistd.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
// In the core. Alone, the thread just waits in the kernel.
long set_lock_waiting(int fd, int nonblocking_cmd, long arg) {
  if (lone_thread_may_block()) {
    return arch::raw_syscall(SYS_fcntl, fd, nonblocking_cmd == F_SETLK ? F_SETLKW : F_OFD_SETLKW,
                             arg);
  }
  return retry_every_ms([&] { return arch::raw_syscall(SYS_fcntl, fd, nonblocking_cmd, arg); },
                        [](long r) { return r == -EAGAIN || r == -EACCES; });
}

int fcntl_any(const char* function, int fd, int cmd, long arg) {
  switch (cmd) {
    case F_SETLKW:
      return static_cast<int>(
          at_cancellation_point(function, [&] { return set_lock_waiting(fd, F_SETLK, arg); }));
    case F_OFD_SETLKW: {  // waits the same way, but is no cancellation point
      ShimEntry entry(function);
      return static_cast<int>(libc_result(set_lock_waiting(fd, F_OFD_SETLK, arg)));
    }
    case F_GETOWN: {
      f_owner_ex owner;
      long r = arch::raw_syscall(SYS_fcntl, fd, F_GETOWN_EX, reinterpret_cast<long>(&owner));
      if (r < 0) return static_cast<int>(libc_result(r));
      return owner.type == F_OWNER_PGRP ? -owner.pid : owner.pid;
    }
    default:
      return static_cast<int>(libc_result(arch::raw_syscall(SYS_fcntl, fd, cmd, arg)));
  }
}

// As glibc's lockf64: a lock from the current offset over `len` bytes.
int lockf_any(const char* function, int fd, int cmd, off_t len) {
  struct flock fl {};
  fl.l_whence = SEEK_CUR;
  fl.l_start = 0;
  fl.l_len = len;
  auto arg = reinterpret_cast<long>(&fl);
  switch (cmd) {
    case F_TEST: {
      fl.l_type = F_RDLCK;
      long r = arch::raw_syscall(SYS_fcntl, fd, F_GETLK, arg);
      if (r < 0) return static_cast<int>(libc_result(r));
      if (fl.l_type == F_UNLCK || fl.l_pid == static_cast<pid_t>(arch::raw_syscall(SYS_getpid))) {
        return 0;
      }
      return static_cast<int>(libc_result(-EACCES));
    }
    case F_ULOCK:
      fl.l_type = F_UNLCK;
      return static_cast<int>(libc_result(arch::raw_syscall(SYS_fcntl, fd, F_SETLK, arg)));
    case F_LOCK:
      fl.l_type = F_WRLCK;
      return fcntl_any(function, fd, F_SETLKW, arg);
    case F_TLOCK:
      fl.l_type = F_WRLCK;
      return static_cast<int>(libc_result(arch::raw_syscall(SYS_fcntl, fd, F_SETLK, arg)));
    default:
      return static_cast<int>(libc_result(-EINVAL));
  }
}
}  // namespace

PTSHIM_EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);  // as glibc: one word, whatever the command
  va_end(ap);
  return fcntl_any(__func__, fd, cmd, arg);
}

PTSHIM_EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  return fcntl_any(__func__, fd, cmd, arg);
}

PTSHIM_EXPORT int lockf(int fd, int cmd, off_t len) { return lockf_any(__func__, fd, cmd, len); }

PTSHIM_EXPORT int lockf64(int fd, int cmd, off_t len) { return lockf_any(__func__, fd, cmd, len); }
