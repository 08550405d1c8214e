// open, open64, openat, openat64, creat, creat64 (and _FORTIFY_SOURCE's
// __open_2 family, which a program calls with flags it does not know at
// compile time): cancellation points (POSIX), and an open that waits in the kernel must not hold
// the one kernel thread. Only a FIFO's open waits (until its other end is opened; a device may
// too): the call is made interruptible by the tick (preempt_interruptible_syscall), so a regular
// open costs nothing more, and one that the tick found waiting waits in the scheduler instead:
// - for reading: the thread opens the FIFO non-blocking (a reader now, so a
//   writer's open completes at once), watches its opens with inotify, and
//   on each open tries its blocking open again (which returns at once if a
//   writer is there); data or a writer's close seen on the non-blocking
//   reader also means a writer came: that fd is then the result, made
//   blocking;
// - for writing: a non-blocking open fails with ENXIO until a reader exists;
//   tried again at each open seen, and every 10 ms (a reader waiting in its
//   own blocking open is not seen by inotify), then made blocking;
// - anything else that waited (a device): tried again every 10 ms.
// A cancellation request or a handler without SA_RESTART ends the wait with
// EINTR, as the kernel's open.
#include <stdarg.h>
#include <sys/inotify.h>

#include "shim/io.h"

using namespace ptshim;

namespace {
constexpr uint64_t kRetryNs = 10'000'000;

long open_now(int dirfd, const char* path, int flags, mode_t mode) {
  return arch::raw_syscall(SYS_openat, dirfd, reinterpret_cast<long>(path), flags, mode);
}

bool wait_ended(WakeReason reason) {
  return reason == WakeReason::kInterrupted ||
         (reason == WakeReason::kSignaled && !signal_wait_restarts());
}

void make_blocking(long fd) {
  long fl = arch::raw_syscall(SYS_fcntl, fd, F_GETFL);
  if (fl >= 0) arch::raw_syscall(SYS_fcntl, fd, F_SETFL, fl & ~O_NONBLOCK);
}

// An inotify fd that becomes readable when the file is opened; -1 if none
// can be had. inotify names files relative to the working directory.
int watch_opens(int dirfd, const char* path) {
  char buf[4096 + 32];
  if (path[0] != '/' && dirfd != AT_FDCWD) {  // /proc/self/fd/<dirfd>/<path>
    static const char kPrefix[] = "/proc/self/fd/";
    size_t n = sizeof kPrefix - 1;
    __builtin_memcpy(buf, kPrefix, n);
    char digits[12];
    size_t d = 0;
    for (unsigned v = static_cast<unsigned>(dirfd); d == 0 || v != 0; v /= 10)
      digits[d++] = '0' + v % 10;
    while (d != 0) buf[n++] = digits[--d];
    buf[n++] = '/';
    for (const char* p = path; *p != '\0'; ++p) {
      if (n + 1 >= sizeof buf) return -1;
      buf[n++] = *p;
    }
    buf[n] = '\0';
    path = buf;
  }
  long fd = arch::raw_syscall(SYS_inotify_init1, IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return -1;
  if (arch::raw_syscall(SYS_inotify_add_watch, fd, reinterpret_cast<long>(path), IN_OPEN) < 0) {
    arch::raw_syscall(SYS_close, fd);
    return -1;
  }
  return static_cast<int>(fd);
}

void drain(int fd) {
  alignas(inotify_event) char events[4096];
  while (arch::raw_syscall(SYS_read, fd, reinterpret_cast<long>(events), sizeof events) > 0) {
  }
}

// Waits for an open of the watched file (or `reader`'s data or hang-up),
// at most until `deadline` (0: none; always one without a watch).
WakeReason wait_for_partner(int watch, int reader, uint64_t deadline) {
  pollfd fds[2];
  size_t n = 0;
  if (reader >= 0) fds[n++] = {reader, POLLIN, 0};
  if (watch >= 0) fds[n++] = {watch, POLLIN, 0};
  if (watch < 0 && deadline == 0) deadline = monotonic_now_ns() + kRetryNs;
  if (n == 0) return sleep_until(deadline);
  return io_block(fds, n, deadline);
}

long open_fifo_for_reading(int dirfd, const char* path, int flags, mode_t mode, int watch) {
  long reader = open_now(dirfd, path, flags | O_NONBLOCK, mode);
  if (reader < 0) return reader;
  for (;;) {
    long r =
        preempt_interruptible_syscall(SYS_openat, dirfd, reinterpret_cast<long>(path), flags, mode);
    if (r != -EINTR) {
      arch::raw_syscall(SYS_close, reader);
      return r;
    }
    WakeReason reason = wait_for_partner(watch, static_cast<int>(reader), 0);
    if (wait_ended(reason)) {
      arch::raw_syscall(SYS_close, reader);
      return -EINTR;
    }
    pollfd p{static_cast<int>(reader), POLLIN, 0};
    if (poll_now(&p, 1) > 0) {  // a writer came (and wrote, or left)
      make_blocking(reader);
      return reader;
    }
    if (watch >= 0) drain(watch);
  }
}

long open_fifo_for_writing(int dirfd, const char* path, int flags, mode_t mode, int watch) {
  for (;;) {
    long r = open_now(dirfd, path, flags | O_NONBLOCK, mode);
    if (r >= 0) {
      make_blocking(r);
      return r;
    }
    if (r != -ENXIO) return r;  // ENXIO: no reader yet
    if (wait_ended(wait_for_partner(watch, -1, monotonic_now_ns() + kRetryNs))) return -EINTR;
    if (watch >= 0) drain(watch);
  }
}

// The tick found the open waiting in the kernel (or a signal ended it).
long open_waiting(int dirfd, const char* path, int flags, mode_t mode) {
  struct stat st;
  bool fifo = (flags & O_PATH) == 0 &&
              arch::raw_syscall(SYS_newfstatat, dirfd, reinterpret_cast<long>(path),
                                reinterpret_cast<long>(&st),
                                (flags & O_NOFOLLOW) != 0 ? AT_SYMLINK_NOFOLLOW : 0) == 0 &&
              S_ISFIFO(st.st_mode);
  int access = flags & O_ACCMODE;
  if (!fifo || access == O_RDWR) {  // a device, or the tick came just before the call
    for (;;) {
      long r = preempt_interruptible_syscall(SYS_openat, dirfd, reinterpret_cast<long>(path), flags,
                                             mode);
      if (r != -EINTR) return r;
      if (wait_ended(sleep_until(monotonic_now_ns() + kRetryNs))) return -EINTR;
    }
  }
  int watch = watch_opens(dirfd, path);
  long r = access == O_RDONLY ? open_fifo_for_reading(dirfd, path, flags, mode, watch)
                              : open_fifo_for_writing(dirfd, path, flags, mode, watch);
  if (watch >= 0) arch::raw_syscall(SYS_close, watch);
  return r;
}

int open_file(const char* function, int dirfd, const char* path, int flags, mode_t mode) {
  ShimEntry entry(function);
  if (entry.nested()) return static_cast<int>(libc_result(open_now(dirfd, path, flags, mode)));
  CancellationPoint cancellation_point;
  if ((flags & O_NONBLOCK) != 0 || lone_thread_may_block()) {
    return static_cast<int>(libc_result(open_now(dirfd, path, flags, mode)));
  }
  long r =
      preempt_interruptible_syscall(SYS_openat, dirfd, reinterpret_cast<long>(path), flags, mode);
  if (r == -EINTR) r = open_waiting(dirfd, path, flags, mode);
  return static_cast<int>(libc_result(r));
}

// The mode argument exists when the flags create a file (as glibc reads it).
bool takes_mode(int flags) { return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE; }

// In an open-like variadic function: `mode`, the optional argument after
// `flags`, read only when the flags say it was passed.
#define OPEN_MODE_ARGUMENT(flags, mode) \
  mode_t mode = 0;                      \
  if (takes_mode(flags)) {              \
    va_list ap;                         \
    va_start(ap, flags);                \
    mode = va_arg(ap, mode_t);          \
    va_end(ap);                         \
  }
}  // namespace

PTSHIM_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  OPEN_MODE_ARGUMENT(flags, mode);
  return open_file(__func__, dirfd, path, flags, mode);
}

PTSHIM_EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  OPEN_MODE_ARGUMENT(flags, mode);
  return open_file(__func__, dirfd, path, flags, mode);
}

PTSHIM_EXPORT int open(const char* path, int flags, ...) {
  OPEN_MODE_ARGUMENT(flags, mode);
  return open_file(__func__, AT_FDCWD, path, flags, mode);
}

PTSHIM_EXPORT int open64(const char* path, int flags, ...) {
  OPEN_MODE_ARGUMENT(flags, mode);
  return open_file(__func__, AT_FDCWD, path, flags, mode);
}

PTSHIM_EXPORT int creat(const char* path, mode_t mode) {
  return open_file(__func__, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

PTSHIM_EXPORT int creat64(const char* path, mode_t mode) {
  return open_file(__func__, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

// _FORTIFY_SOURCE: no mode argument, so creating a file is the caller's bug,
// which glibc reports so before it aborts.
namespace {
int open_checked(const char* function, int dirfd, const char* path, int flags) {
  if (takes_mode(flags))
    fatal("*** invalid open call: O_CREAT or O_TMPFILE without mode ***: terminated");
  return open_file(function, dirfd, path, flags, 0);
}
}  // namespace

PTSHIM_EXPORT int __open_2(const char* path, int flags) {
  return open_checked(__func__, AT_FDCWD, path, flags);
}

PTSHIM_EXPORT int __open64_2(const char* path, int flags) {
  return open_checked(__func__, AT_FDCWD, path, flags);
}

PTSHIM_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  return open_checked(__func__, dirfd, path, flags);
}

PTSHIM_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  return open_checked(__func__, dirfd, path, flags);
}
