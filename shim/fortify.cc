// _FORTIFY_SOURCE's checked forms of the interposed calls that take a
// buffer: a program built with it calls __read_chk where it wrote read (and
// so on) whenever the compiler knows the buffer's size. glibc's own forms
// call libc's internal functions, which ptshim does not see: these check the
// size as glibc does and call ptshim's function, so the call still parks
// only its thread and is a cancellation point.
#include <poll.h>
#include <sys/socket.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
// glibc's __chk_fail.
void check_size(size_t wanted, size_t room) {
  if (wanted > room) fatal("*** buffer overflow detected ***: terminated");
}
}  // namespace

PTSHIM_EXPORT ssize_t __read_chk(int fd, void* buf, size_t count, size_t buflen) {
  check_size(count, buflen);
  return read(fd, buf, count);
}

PTSHIM_EXPORT ssize_t __pread_chk(int fd, void* buf, size_t count, off_t offset, size_t buflen) {
  check_size(count, buflen);
  return pread(fd, buf, count, offset);
}

PTSHIM_EXPORT ssize_t __pread64_chk(int fd, void* buf, size_t count, off_t offset, size_t buflen) {
  check_size(count, buflen);
  return pread(fd, buf, count, offset);
}

PTSHIM_EXPORT ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  check_size(len, buflen);
  return recv(fd, buf, len, flags);
}

PTSHIM_EXPORT ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags,
                                     sockaddr* from, socklen_t* fromlen) {
  check_size(len, buflen);
  return recvfrom(fd, buf, len, flags, from, fromlen);
}

PTSHIM_EXPORT int __poll_chk(pollfd* fds, nfds_t count, int timeout_ms, size_t fdslen) {
  check_size(count, fdslen / sizeof(pollfd));
  return poll(fds, count, timeout_ms);
}

PTSHIM_EXPORT int __ppoll_chk(pollfd* fds, nfds_t count, const timespec* timeout,
                              const sigset_t* mask, size_t fdslen) {
  check_size(count, fdslen / sizeof(pollfd));
  return ppoll(fds, count, timeout, mask);
}
