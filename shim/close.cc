// close: a cancellation point (POSIX); the descriptor is closed by the
// kernel as it is.
#include "shim/io.h"

using namespace ptshim;

PTSHIM_EXPORT int close(int fd) {
  return static_cast<int>(
      at_cancellation_point(__func__, [&] { return arch::raw_syscall(SYS_close, fd); }));
}
