// Clocks and deadlines. Every timeout becomes a CLOCK_MONOTONIC deadline for
// the deadline heap; a CLOCK_REALTIME one is converted once, when the wait
// starts (a later change of the system clock does not move it).
#include <errno.h>

#include "core/base/base.h"

// glibc's clock_gettime by its internal name: ptshim exports clock_gettime
// (shim/clock.cc), and -Bsymbolic-functions would bind the plain name to it.
extern "C" int __clock_gettime(clockid_t clock, timespec* ts);
__asm__(".symver __clock_gettime,__clock_gettime@GLIBC_PRIVATE");

namespace ptshim {

int libc_clock_gettime(clockid_t clock, timespec* ts) { return __clock_gettime(clock, ts); }

namespace {
uint64_t clock_now_ns(clockid_t clock) {
  timespec ts;
  __clock_gettime(clock, &ts);  // vDSO: no system call
  return ns_from_timespec(ts);
}

uint64_t saturating_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

// A valid, non-negative timespec in ns, UINT64_MAX when it does not fit
// (more than about 584 years).
uint64_t saturating_ns(const timespec* ts) {
  auto sec = static_cast<uint64_t>(ts->tv_sec);
  if (sec > UINT64_MAX / kNsPerSec) return UINT64_MAX;
  return saturating_add(sec * kNsPerSec, static_cast<uint64_t>(ts->tv_nsec));
}
}  // namespace

uint64_t monotonic_now_ns() { return clock_now_ns(CLOCK_MONOTONIC); }

bool clock_is_waitable(clockid_t clock) {
  return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC;
}

bool clock_is_sleepable(clockid_t clock) {
  return clock_is_waitable(clock) || clock == CLOCK_BOOTTIME || clock == CLOCK_TAI;
}

int deadline_from_abstime(clockid_t clock, const timespec* abstime, uint64_t* deadline_ns) {
  if (!clock_is_sleepable(clock) || !timespec_is_valid(abstime)) return EINVAL;
  uint64_t mono_now = monotonic_now_ns();
  uint64_t clock_now = clock == CLOCK_MONOTONIC ? mono_now : clock_now_ns(clock);
  if (abstime->tv_sec < 0) {
    *deadline_ns = 1;  // long past
    return 0;
  }
  uint64_t target = saturating_ns(abstime);
  if (target <= clock_now) {
    *deadline_ns = 1;
    return 0;
  }
  *deadline_ns = saturating_add(mono_now, target - clock_now);
  return 0;
}

int deadline_from_relative(const timespec* interval, uint64_t* deadline_ns) {
  if (!timespec_is_valid(interval) || interval->tv_sec < 0) return EINVAL;
  *deadline_ns = saturating_add(monotonic_now_ns(), saturating_ns(interval));
  return 0;
}

}  // namespace ptshim
