// sleep, usleep, nanosleep, clock_nanosleep: the caller sleeps in the
// scheduler while other threads run. Nothing interrupts these sleeps, so the
// remaining-time outputs are never written (the kernel writes them only on
// EINTR).
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
int sleep_for(const timespec* interval) {
  uint64_t deadline;
  if (int bad = deadline_from_relative(interval, &deadline)) return bad;
  sleep_until(deadline);
  return 0;
}
}  // namespace

PTSHIM_EXPORT int clock_nanosleep(clockid_t clock, int flags, const timespec* request,
                                  timespec* remain) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  if (clock == CLOCK_THREAD_CPUTIME_ID) return EINVAL;
  if (!clock_is_sleepable(clock)) {
    // CPU-time clocks of processes: the kernel's own sleep, which blocks
    // every user thread until it ends.
    long r = arch::raw_syscall(SYS_clock_nanosleep, clock, flags, reinterpret_cast<long>(request),
                               reinterpret_cast<long>(remain));
    return static_cast<int>(-r);
  }
  if ((flags & TIMER_ABSTIME) == 0) return sleep_for(request);
  uint64_t deadline;
  if (int bad = deadline_from_abstime(clock, request, &deadline)) return bad;
  sleep_until(deadline);
  return 0;
}

PTSHIM_EXPORT int nanosleep(const timespec* request, timespec*) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  if (int err = sleep_for(request)) {
    errno = err;
    return -1;
  }
  return 0;
}

PTSHIM_EXPORT int usleep(useconds_t usec) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  timespec ts{static_cast<time_t>(usec / 1000000), static_cast<long>(usec % 1000000) * 1000};
  sleep_for(&ts);
  return 0;
}

PTSHIM_EXPORT unsigned sleep(unsigned seconds) {
  ShimEntry entry(__func__);
  CancellationPoint cancellation_point;
  timespec ts{static_cast<time_t>(seconds), 0};
  sleep_for(&ts);
  return 0;
}
