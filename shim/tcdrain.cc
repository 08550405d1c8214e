// tcdrain: a cancellation point (POSIX); glibc's own is ioctl(TCSBRK, 1).
#include <sys/ioctl.h>

#include "shim/io.h"

using namespace ptshim;

PTSHIM_EXPORT int tcdrain(int fd) {
  return static_cast<int>(
      at_cancellation_point(__func__, [&] { return arch::raw_syscall(SYS_ioctl, fd, TCSBRK, 1); }));
}
