// fsync, fdatasync, msync: cancellation points (POSIX). The kernel does the
// work (the kernel thread waits for the device meanwhile, as before).
#include <sys/mman.h>

#include "shim/io.h"

using namespace ptshim;

PTSHIM_EXPORT int fsync(int fd) {
  return static_cast<int>(
      at_cancellation_point(__func__, [&] { return arch::raw_syscall(SYS_fsync, fd); }));
}

PTSHIM_EXPORT int fdatasync(int fd) {
  return static_cast<int>(
      at_cancellation_point(__func__, [&] { return arch::raw_syscall(SYS_fdatasync, fd); }));
}

PTSHIM_EXPORT int msync(void* addr, size_t len, int flags) {
  return static_cast<int>(at_cancellation_point(__func__, [&] {
    return arch::raw_syscall(SYS_msync, reinterpret_cast<long>(addr), static_cast<long>(len),
                             flags);
  }));
}
