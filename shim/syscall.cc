// syscall(): libc's generic system call, which Rust's std, libstdc++'s atomic
// waits and many libraries use for futex(2). A futex call from a user thread
// is done by ptshim (core/io/futex_call.cc), so a wait parks only its thread;
// every other call, and any call from a kernel thread ptshim does not run,
// goes to the kernel unchanged.
#include <stdarg.h>
#include <sys/syscall.h>

#include "shim/io.h"

using namespace ptshim;

PTSHIM_EXPORT long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& arg : a) arg = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_futex && tls_on_scheduler_thread) {
    ShimEntry entry(__func__);
    return libc_result(futex_call(reinterpret_cast<uint32_t*>(a[0]), static_cast<int>(a[1]),
                                  static_cast<uint32_t>(a[2]),
                                  reinterpret_cast<const timespec*>(a[3]),
                                  reinterpret_cast<uint32_t*>(a[4]), static_cast<uint32_t>(a[5])));
  }
  return libc_result(arch::raw_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]));
}
