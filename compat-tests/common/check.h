/* Shared checks for the compatibility tests.
 *
 * Every test is an ordinary pthread program: it knows nothing about the
 * library it runs under. What makes a test meaningful is that it also checks
 * that the whole run stayed on ONE kernel thread, so it fails when run on
 * glibc's own threads.
 *
 * Usable from C (gnu11) and C++ (gnu++20). Compile with _GNU_SOURCE defined
 * (the CMake harness does; g++ defines it anyway).
 */
#ifndef COMPAT_CHECK_H
#define COMPAT_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

/* Report a failed check with its location and stop the whole process. The
 * message goes out in one write so reports from several threads stay whole. */
#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
static inline void
check_failed(const char* file, int line, const char* cond, const char* fmt, ...) {
  char msg[1024];
  int len = snprintf(msg, sizeof msg, "%s:%d: CHECK FAILED: %s: ", file, line, cond);
  va_list ap;
  va_start(ap, fmt);
  if (len >= 0 && len < (int)sizeof msg)
    len += vsnprintf(msg + len, sizeof msg - (size_t)len, fmt, ap);
  va_end(ap);
  if (len < 0) len = 0;
  if (len > (int)sizeof msg - 2) len = (int)sizeof msg - 2; /* truncated */
  msg[len++] = '\n';
  fflush(NULL);
  if (write(STDERR_FILENO, msg, (size_t)len) < 0) {
    /* nothing better to do */
  }
  exit(1);
}

#define CHECK_MSG(cond, ...)                                           \
  do {                                                                 \
    if (!(cond)) check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__); \
  } while (0)

#define CHECK(cond) CHECK_MSG(cond, "(no details)")

/* For functions that return an error number (pthread_*, clock_nanosleep):
 * compare with the expected value and print both symbolically on mismatch. */
#define CHECK_RC(expr, expected)                                                                 \
  do {                                                                                           \
    int check_rc_got_ = (expr);                                                                  \
    int check_rc_want_ = (expected);                                                             \
    CHECK_MSG(check_rc_got_ == check_rc_want_, "%s returned %d (%s), want %d (%s)", #expr,       \
              check_rc_got_, strerror(check_rc_got_), check_rc_want_, strerror(check_rc_want_)); \
  } while (0)

/* Called at the start and end of every thread body, main included: all user
 * threads must run on the process's one kernel thread, whose tid is the pid.
 *
 * COMPAT_LOGIC_ONLY (never set by the CMake harness) turns the two
 * kernel-thread checks off, to try a test's own logic on native threads. */
#ifdef COMPAT_LOGIC_ONLY
#define CHECK_ON_MAIN_KERNEL_THREAD() ((void)0)
#else
#define CHECK_ON_MAIN_KERNEL_THREAD()                                         \
  do {                                                                        \
    long check_tid_ = syscall(SYS_gettid);                                    \
    long check_pid_ = (long)getpid();                                         \
    CHECK_MSG(check_tid_ == check_pid_,                                       \
              "running on kernel thread %ld, but the process (pid %ld) must " \
              "use only one kernel thread",                                   \
              check_tid_, check_pid_);                                        \
  } while (0)
#endif

/* Number of kernel threads in this process, from /proc/self/status. */
static inline int kernel_thread_count(void) {
  char buf[8192];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = 0, got;
  while (len < (ssize_t)sizeof buf - 1 &&
         (got = read(fd, buf + len, sizeof buf - 1 - (size_t)len)) > 0)
    len += got;
  close(fd);
  buf[len < 0 ? 0 : len] = '\0';
  const char* line = strstr(buf, "\nThreads:\t");
  return line ? atoi(line + strlen("\nThreads:\t")) : -1;
}

/* End-of-test check: this is the only kernel thread and the kernel agrees. */
#ifdef COMPAT_LOGIC_ONLY
#define CHECK_ONE_KERNEL_THREAD() ((void)0)
#else
#define CHECK_ONE_KERNEL_THREAD()                                                         \
  do {                                                                                    \
    CHECK_ON_MAIN_KERNEL_THREAD();                                                        \
    int check_threads_ = kernel_thread_count();                                           \
    CHECK_MSG(check_threads_ == 1, "/proc/self/status reports %d kernel threads, want 1", \
              check_threads_);                                                            \
  } while (0)
#endif

static inline int64_t clock_ns(clockid_t clock) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) {
    perror("clock_gettime");
    exit(1);
  }
  return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Monotonic wall time, for elapsed-time measurements. */
static inline int64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

/* CPU time consumed by the whole process (all threads). */
static inline int64_t cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

static inline struct timespec ns_to_timespec(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = (time_t)(ns / NS_PER_S);
  ts.tv_nsec = (long)(ns % NS_PER_S);
  return ts;
}

static inline int64_t timespec_to_ns(const struct timespec* ts) {
  return (int64_t)ts->tv_sec * NS_PER_S + ts->tv_nsec;
}

/* Absolute deadline `delta_ns` from now on `clock`, for the timed waits. */
static inline struct timespec deadline_after(clockid_t clock, int64_t delta_ns) {
  return ns_to_timespec(clock_ns(clock) + delta_ns);
}

#endif /* COMPAT_CHECK_H */
