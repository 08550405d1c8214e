// pread, pwrite (and their 64-bit names): cancellation points (POSIX). They
// take an offset, so they work on files that seek, which never wait for
// readiness: the kernel does them as they are.
#include "shim/io.h"

using namespace ptshim;

namespace {
ssize_t pread_at(const char* function, int fd, void* buf, size_t count, off_t offset) {
  return at_cancellation_point(function, [&] {
    return arch::raw_syscall(SYS_pread64, fd, reinterpret_cast<long>(buf), static_cast<long>(count),
                             offset);
  });
}

ssize_t pwrite_at(const char* function, int fd, const void* buf, size_t count, off_t offset) {
  return at_cancellation_point(function, [&] {
    return arch::raw_syscall(SYS_pwrite64, fd, reinterpret_cast<long>(buf),
                             static_cast<long>(count), offset);
  });
}
}  // namespace

PTSHIM_EXPORT ssize_t pread(int fd, void* buf, size_t count, off_t offset) {
  return pread_at(__func__, fd, buf, count, offset);
}

PTSHIM_EXPORT ssize_t pread64(int fd, void* buf, size_t count, off_t offset) {
  return pread_at(__func__, fd, buf, count, offset);
}

PTSHIM_EXPORT ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  return pwrite_at(__func__, fd, buf, count, offset);
}

PTSHIM_EXPORT ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  return pwrite_at(__func__, fd, buf, count, offset);
}
