// Sockets. MSG_DONTWAIT calls go straight through; connect on a blocking
// socket is made non-blocking for the handshake, which the thread waits out
// parked, then the socket's flags are restored.
#include <sys/socket.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
long raw_recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from, socklen_t* fromlen) {
  return arch::raw_syscall(SYS_recvfrom, fd, reinterpret_cast<long>(buf), static_cast<long>(len),
                           flags, reinterpret_cast<long>(from), reinterpret_cast<long>(fromlen));
}

long raw_sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to,
                socklen_t tolen) {
  return arch::raw_syscall(SYS_sendto, fd, reinterpret_cast<long>(buf), static_cast<long>(len),
                           flags, reinterpret_cast<long>(to), tolen);
}

template <typename Op>
long socket_call(int fd, int flags, short events, Op op) {
  if ((flags & MSG_DONTWAIT) != 0) return libc_result(op());
  return io_call(fd, events, op);
}
}  // namespace

PTSHIM_EXPORT ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from,
                               socklen_t* fromlen) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return socket_call(fd, flags, POLLIN,
                     [&] { return raw_recvfrom(fd, buf, len, flags, from, fromlen); });
}

PTSHIM_EXPORT ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return recvfrom(fd, buf, len, flags, nullptr, nullptr);
}

PTSHIM_EXPORT ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return socket_call(fd, flags, POLLIN, [&] {
    return arch::raw_syscall(SYS_recvmsg, fd, reinterpret_cast<long>(msg), flags);
  });
}

PTSHIM_EXPORT ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to,
                             socklen_t tolen) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  // A large blocking send: non-blocking pieces, parked for room in between.
  if ((flags & MSG_DONTWAIT) == 0 && len > kAtomicWrite && active_thread_count() > 1 &&
      !fd_is_nonblocking(fd)) {
    return write_fully(fd, len, [&](size_t done) {
      return raw_sendto(fd, static_cast<const char*>(buf) + done, len - done, flags | MSG_DONTWAIT,
                        to, tolen);
    });
  }
  return socket_call(fd, flags, POLLOUT,
                     [&] { return raw_sendto(fd, buf, len, flags, to, tolen); });
}

PTSHIM_EXPORT ssize_t send(int fd, const void* buf, size_t len, int flags) {
  return sendto(fd, buf, len, flags, nullptr, 0);
}

PTSHIM_EXPORT ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return socket_call(fd, flags, POLLOUT, [&] {
    return arch::raw_syscall(SYS_sendmsg, fd, reinterpret_cast<long>(msg), flags);
  });
}

PTSHIM_EXPORT int accept4(int fd, sockaddr* addr, socklen_t* addrlen, int flags) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  return static_cast<int>(io_call(fd, POLLIN, [&] {
    return arch::raw_syscall(SYS_accept4, fd, reinterpret_cast<long>(addr),
                             reinterpret_cast<long>(addrlen), flags);
  }));
}

PTSHIM_EXPORT int accept(int fd, sockaddr* addr, socklen_t* addrlen) {
  return accept4(fd, addr, addrlen, 0);
}

PTSHIM_EXPORT int connect(int fd, const sockaddr* addr, socklen_t len) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  long flags = arch::raw_syscall(SYS_fcntl, fd, F_GETFL);
  if (flags < 0 || (flags & O_NONBLOCK) != 0) {
    return static_cast<int>(
        libc_result(arch::raw_syscall(SYS_connect, fd, reinterpret_cast<long>(addr), len)));
  }
  arch::raw_syscall(SYS_fcntl, fd, F_SETFL, flags | O_NONBLOCK);
  long r = arch::raw_syscall(SYS_connect, fd, reinterpret_cast<long>(addr), len);
  if (r == -EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    while (poll_now(&p, 1) == 0) {
      if (io_block(&p, 1, 0) == WakeReason::kInterrupted) break;
    }
    int error = 0;
    socklen_t size = sizeof error;
    r = arch::raw_syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<long>(&error),
                          reinterpret_cast<long>(&size));
    if (r == 0) r = error != 0 ? -error : 0;
    if (p.revents == 0) r = -EINTR;  // interrupted for cancellation
  }
  arch::raw_syscall(SYS_fcntl, fd, F_SETFL, flags);
  return static_cast<int>(libc_result(r));
}
