// CPU-time clocks per user thread: pthread_getcpuclockid, clock_gettime,
// clock_getres and getrusage(RUSAGE_THREAD) (core/thread/cpu_clock.cc, the
// time itself from core/sched/cputime.cc). clock_gettime is hot in many
// programs: any clock that cannot be a thread's CPU clock goes straight to
// glibc's (the vDSO) after one test.
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
int fail(int err) {
  errno = err;
  return -1;
}

// A CPU-time clock, or CLOCK_THREAD_CPUTIME_ID.
__attribute__((noinline, cold)) int cpu_clock_gettime(clockid_t clock, timespec* ts) {
  // A process's CPU clock is the kernel's (this process's is the sum of its
  // threads', as it should be).
  if (clock < 0 && (clock & 4) == 0) return libc_clock_gettime(clock, ts);
  ShimEntry entry("clock_gettime");
  uint64_t ns;
  if (int err = cpu_clock_now(clock, &ns)) return fail(err);
  *ts = timespec_from_ns(ns);
  return 0;
}

timeval timeval_from_ns(uint64_t ns) {
  return timeval{static_cast<time_t>(ns / kNsPerSec),
                 static_cast<suseconds_t>(ns % kNsPerSec / 1000)};
}
uint64_t ns_from_timeval(const timeval& tv) {
  return static_cast<uint64_t>(tv.tv_sec) * kNsPerSec + static_cast<uint64_t>(tv.tv_usec) * 1000;
}
}  // namespace

PTSHIM_EXPORT int clock_gettime(clockid_t clock, timespec* ts) {
  if (__builtin_expect(clock >= 0 && clock != CLOCK_THREAD_CPUTIME_ID, 1)) {
    return libc_clock_gettime(clock, ts);
  }
  return cpu_clock_gettime(clock, ts);
}

PTSHIM_EXPORT int clock_getres(clockid_t clock, timespec* res) {
  if (clock < 0) {
    // The kernel's answer for the same kind of clock of this kernel thread
    // (1 ns for CPUCLOCK_SCHED); EINVAL for one that names no user thread.
    ShimEntry entry(__func__);
    Thread* t;
    if (thread_cpu_clock_owner(clock, &t) == CpuClockOwner::kNone) return fail(EINVAL);
    clock = thread_cpu_clock_for_kernel(clock);
  }
  long r = arch::raw_syscall(SYS_clock_getres, clock, reinterpret_cast<long>(res));
  return r < 0 ? fail(static_cast<int>(-r)) : 0;
}

PTSHIM_EXPORT int pthread_getcpuclockid(pthread_t thread, clockid_t* clock) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  // glibc answers ESRCH once the thread has ended (its tid is cleared).
  if (!thread_is_valid(t) || t->state == ThreadState::kExited) return ESRCH;
  *clock = thread_cpu_clock(t);
  return 0;
}

// RUSAGE_THREAD: the kernel thread's times, scaled to the calling user
// thread's share of its CPU time; the other fields stay the kernel thread's.
PTSHIM_EXPORT int getrusage(int who, struct rusage* usage) {
  long r = arch::raw_syscall(SYS_getrusage, who, reinterpret_cast<long>(usage));
  if (r < 0) return fail(static_cast<int>(-r));
  if (who != RUSAGE_THREAD) return 0;
  ShimEntry entry(__func__);
  uint64_t mine = cputime_ns(current()), all = kernel_thread_cpu_ns();
  if (all == 0 || mine >= all) return 0;
  double share = static_cast<double>(mine) / static_cast<double>(all);
  auto scale = [share](timeval* tv) {
    *tv = timeval_from_ns(static_cast<uint64_t>(static_cast<double>(ns_from_timeval(*tv)) * share));
  };
  scale(&usage->ru_utime);
  scale(&usage->ru_stime);
  return 0;
}
