#include <sys/uio.h>
#include <unistd.h>

#include "shim/io.h"

using namespace ptshim;

PTSHIM_EXPORT ssize_t read(int fd, void* buf, size_t count) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return io_call(fd, POLLIN, [&] {
    return arch::raw_syscall(SYS_read, fd, reinterpret_cast<long>(buf), static_cast<long>(count));
  });
}

PTSHIM_EXPORT ssize_t write(int fd, const void* buf, size_t count) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  long flags;
  if (count > kAtomicWrite && active_thread_count() > 1 && fd_may_block(fd) &&
      (flags = arch::raw_syscall(SYS_fcntl, fd, F_GETFL)) >= 0 && (flags & O_NONBLOCK) == 0) {
    return write_fully(fd, count, [&](size_t done) {
      return write_without_blocking(fd, flags, SYS_write,
                                    reinterpret_cast<long>(static_cast<const char*>(buf) + done),
                                    static_cast<long>(count - done), 0);
    });
  }
  return io_call(fd, POLLOUT, [&] {
    return arch::raw_syscall(SYS_write, fd, reinterpret_cast<long>(buf), static_cast<long>(count));
  });
}

PTSHIM_EXPORT ssize_t readv(int fd, const iovec* iov, int count) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return io_call(fd, POLLIN, [&] {
    return arch::raw_syscall(SYS_readv, fd, reinterpret_cast<long>(iov), count);
  });
}

PTSHIM_EXPORT ssize_t writev(int fd, const iovec* iov, int count) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return io_call(fd, POLLOUT, [&] {
    return arch::raw_syscall(SYS_writev, fd, reinterpret_cast<long>(iov), count);
  });
}
