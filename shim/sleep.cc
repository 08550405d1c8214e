// sleep, usleep, nanosleep, clock_nanosleep: the caller sleeps in the
// scheduler while other threads run (on a CPU-time clock too:
// core/thread/cpu_clock.cc). A signal whose handler runs on the
// sleeping thread ends the sleep early, as in the kernel, whatever
// SA_RESTART says: the call fails with EINTR and writes the time left
// (relative sleeps only; sleep() returns the whole seconds left, as glibc's).
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
// 0, EINTR (with the time left in `remain`, if given) or an error number.
int sleep_until_or_signal(uint64_t deadline, timespec* remain) {
  if (sleep_until(deadline) != WakeReason::kSignaled) return 0;
  if (remain != nullptr) {
    uint64_t now = monotonic_now_ns();
    *remain = timespec_from_ns(deadline > now ? deadline - now : 0);
  }
  return EINTR;
}

int sleep_for(const timespec* interval, timespec* remain) {
  uint64_t deadline;
  if (int bad = deadline_from_relative(interval, &deadline)) return bad;
  return sleep_until_or_signal(deadline, remain);
}
}  // namespace

PTSHIM_EXPORT int clock_nanosleep(clockid_t clock, int flags, const timespec* request,
                                  timespec* remain) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  if (clock == CLOCK_THREAD_CPUTIME_ID) return EINVAL;  // as glibc, before anything else
  if (clock < 0 || clock == CLOCK_PROCESS_CPUTIME_ID) {
    // CPU-time clocks sleep in the scheduler too, looking at the clock again
    // when what was left of it has passed in real time.
    return cpu_clock_sleep(clock, (flags & TIMER_ABSTIME) != 0, request, remain);
  }
  if ((clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) && g_virtual_clock.on) {
    // Virtual, on the plain clock, once the kernel allows it (EPERM without
    // CAP_WAKE_ALARM): a sleep of nothing asks.
    timespec nothing{0, 0};
    if (long r =
            arch::raw_syscall(SYS_clock_nanosleep, clock, 0, reinterpret_cast<long>(&nothing), 0)) {
      return static_cast<int>(-r);
    }
    clock = clock == CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : CLOCK_BOOTTIME;
  }
  if (!clock_is_sleepable(clock)) {
    // The alarm clocks, and the kernel's errors for the rest: the kernel's
    // own sleep, which blocks every user thread until it ends.
    long r = arch::raw_syscall(SYS_clock_nanosleep, clock, flags, reinterpret_cast<long>(request),
                               reinterpret_cast<long>(remain));
    return static_cast<int>(-r);
  }
  if ((flags & TIMER_ABSTIME) == 0) return sleep_for(request, remain);
  uint64_t deadline;
  if (int bad = deadline_from_abstime(clock, request, &deadline)) return bad;
  return sleep_until_or_signal(deadline, nullptr);  // an absolute sleep has no time left to give
}

PTSHIM_EXPORT int nanosleep(const timespec* request, timespec* remain) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  if (int err = sleep_for(request, remain)) {
    errno = err;
    return -1;
  }
  return 0;
}

PTSHIM_EXPORT int usleep(useconds_t usec) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  timespec ts{static_cast<time_t>(usec / 1000000), static_cast<long>(usec % 1000000) * 1000};
  if (int err = sleep_for(&ts, nullptr)) {
    errno = err;
    return -1;
  }
  return 0;
}

PTSHIM_EXPORT unsigned sleep(unsigned seconds) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  timespec ts{static_cast<time_t>(seconds), 0}, left{0, 0};
  if (sleep_for(&ts, &left) != EINTR) return 0;
  errno = EINTR;                              // as glibc's, which leaves nanosleep's
  return static_cast<unsigned>(left.tv_sec);  // the whole seconds not slept
}
