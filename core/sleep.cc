// Sleeping and deadlines. Every timeout is turned into a CLOCK_MONOTONIC
// deadline for the deadline heap. A CLOCK_REALTIME deadline is converted once,
// when the wait starts (a later change of the system clock does not move it).
#include <errno.h>

#include "core/runtime.h"

namespace ptshim {

namespace {
constexpr uint64_t kNsPerSec = 1000000000u;

bool timespec_valid(const timespec* ts) {
  return ts->tv_nsec >= 0 && ts->tv_nsec < static_cast<long>(kNsPerSec);
}

uint64_t clock_now_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kNsPerSec + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t saturating_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }
}  // namespace

bool clock_is_supported(clockid_t clock) {
  return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME ||
         clock == CLOCK_TAI;
}

int deadline_from_abstime(clockid_t clock, const timespec* abstime, uint64_t* deadline_ns) {
  if (!clock_is_supported(clock) || !timespec_valid(abstime)) return EINVAL;
  uint64_t mono_now = monotonic_now_ns();
  uint64_t clock_now = clock == CLOCK_MONOTONIC ? mono_now : clock_now_ns(clock);
  if (abstime->tv_sec < 0) {
    *deadline_ns = 1;  // long past
    return 0;
  }
  uint64_t target = saturating_add(static_cast<uint64_t>(abstime->tv_sec) * kNsPerSec,
                                   static_cast<uint64_t>(abstime->tv_nsec));
  if (target <= clock_now) {
    *deadline_ns = 1;
    return 0;
  }
  *deadline_ns = saturating_add(mono_now, target - clock_now);
  return 0;
}

int deadline_from_relative(const timespec* interval, uint64_t* deadline_ns) {
  if (!timespec_valid(interval) || interval->tv_sec < 0) return EINVAL;
  uint64_t ns = saturating_add(static_cast<uint64_t>(interval->tv_sec) * kNsPerSec,
                               static_cast<uint64_t>(interval->tv_nsec));
  *deadline_ns = saturating_add(monotonic_now_ns(), ns);
  return 0;
}

void sleep_until(uint64_t deadline_ns) {
  if (deadline_ns <= monotonic_now_ns()) {
    yield();  // a zero sleep still lets others run, as the kernel's does
    return;
  }
  // Only the deadline or a cancellation request ends it.
  while (block(nullptr, WaitKind::kSleep, nullptr, deadline_ns) == WakeReason::kWoken) {
  }
}

}  // namespace ptshim
