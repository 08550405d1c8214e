// Clocks: CPU-time clocks per user thread (pthread_getcpuclockid,
// clock_gettime, clock_getres, getrusage(RUSAGE_THREAD):
// core/thread/cpu_clock.cc, the time itself from core/sched/cputime.cc), and
// under virtual time every clock the program reads (clock_gettime,
// gettimeofday, time, clock, timespec_get, getrusage's CPU times: core/base's
// virtual clock). clock_gettime is hot in many programs: without virtual time
// any clock that cannot be a thread's CPU clock goes straight to glibc's (the
// vDSO) after one test; gettimeofday, time and clock make glibc's own calls.
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
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

// Under virtual time, every clock (core/base): a clock derived from the
// virtual one, or a CPU clock read after the read's quantum.
__attribute__((noinline, cold)) int virtual_clock_gettime(clockid_t clock, timespec* ts) {
  ShimEntry entry("clock_gettime");
  uint64_t ns;
  if (!virtual_clock_read(clock, &ns)) {
    if (int err = cpu_clock_now(clock, &ns)) return fail(err);
  }
  *ts = timespec_from_ns(ns);
  return 0;
}

uint64_t virtual_now_ns(clockid_t clock) {
  ShimEntry entry("clock_gettime");
  uint64_t ns = 0;
  virtual_clock_read(clock, &ns);
  return ns;
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
  if (__builtin_expect(static_cast<uint32_t>(clock) < g_virtual_clock.kernel_clocks_below &&
                           clock != CLOCK_THREAD_CPUTIME_ID,
                       1)) {
    return libc_clock_gettime(clock, ts);
  }
  if (g_virtual_clock.on) return virtual_clock_gettime(clock, ts);
  return cpu_clock_gettime(clock, ts);
}

// glibc 2.36's: the timezone, obsolete, is zeroed.
PTSHIM_EXPORT int gettimeofday(timeval* tv, void* tz) {
  if (tz != nullptr) memset(tz, 0, sizeof(struct timezone));
  // glibc declares tv nonnull, but its vDSO call accepts a null one (only
  // the timezone is wanted): the compiler must not assume it.
  timeval* out = tv;
  __asm__("" : "+r"(out));
  if (out == nullptr) return 0;
  uint64_t ns;
  if (__builtin_expect(!g_virtual_clock.on, 1)) {
    timespec ts;
    libc_clock_gettime(CLOCK_REALTIME, &ts);
    ns = ns_from_timespec(ts);
  } else {
    ns = virtual_now_ns(CLOCK_REALTIME);
  }
  *out = timeval_from_ns(ns);
  return 0;
}

// glibc's (the vDSO's) is the coarse clock's seconds.
PTSHIM_EXPORT time_t time(time_t* t) {
  time_t now;
  if (__builtin_expect(!g_virtual_clock.on, 1)) {
    timespec ts;
    libc_clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    now = ts.tv_sec;
  } else {
    now = static_cast<time_t>(virtual_now_ns(CLOCK_REALTIME) / kNsPerSec);
  }
  if (t != nullptr) *t = now;
  return now;
}

// glibc 2.36's: the process CPU clock in CLOCKS_PER_SEC.
PTSHIM_EXPORT clock_t clock() {
  uint64_t ns;
  if (__builtin_expect(!g_virtual_clock.on, 1)) {
    timespec ts;
    libc_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    ns = ns_from_timespec(ts);
  } else {
    ns = virtual_now_ns(CLOCK_PROCESS_CPUTIME_ID);
  }
  return static_cast<clock_t>(ns / (kNsPerSec / CLOCKS_PER_SEC));
}

// C11's; glibc 2.36 knows TIME_UTC only.
PTSHIM_EXPORT int timespec_get(timespec* ts, int base) {
  if (base != TIME_UTC) return 0;
  if (__builtin_expect(!g_virtual_clock.on, 1)) {
    libc_clock_gettime(CLOCK_REALTIME, ts);
  } else {
    *ts = timespec_from_ns(virtual_now_ns(CLOCK_REALTIME));
  }
  return base;
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
// Under virtual time, RUSAGE_SELF's and RUSAGE_THREAD's user time is the
// process's or the thread's virtual CPU time and their system time 0 (what
// ptshim's kernel calls cost is real time's); RUSAGE_CHILDREN stays the
// kernel's (a child not under ptshim has real times only).
PTSHIM_EXPORT int getrusage(int who, struct rusage* usage) {
  long r = arch::raw_syscall(SYS_getrusage, who, reinterpret_cast<long>(usage));
  if (r < 0) return fail(static_cast<int>(-r));
  if (g_virtual_clock.on && (who == RUSAGE_SELF || who == RUSAGE_THREAD)) {
    ShimEntry entry(__func__);
    uint64_t ns =
        who == RUSAGE_SELF ? virtual_now_ns(CLOCK_PROCESS_CPUTIME_ID) : cputime_ns(current());
    usage->ru_utime = timeval_from_ns(ns);
    usage->ru_stime = timeval{0, 0};
    return 0;
  }
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
