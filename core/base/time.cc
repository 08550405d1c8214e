// Clocks and deadlines. Every timeout becomes a CLOCK_MONOTONIC deadline for
// the deadline heap; a CLOCK_REALTIME one is converted once, when the wait
// starts (a later change of the system clock does not move it).
//
// Virtual time (base.h): every clock ptshim or the program reads through
// here is derived from g_virtual_clock.now_ns, which only moves forward, and
// only by virtual_clock_read (a program's read) and virtual_time_advance_to
// (core/sched). ptshim's own reads never move it, so how often ptshim looks
// at the clock (ticks, polls) cannot change what the program sees.
#include <errno.h>

#include "core/base/base.h"

// glibc's clock_gettime by its internal name: ptshim exports clock_gettime
// (shim/clock.cc), and -Bsymbolic-functions would bind the plain name to it.
extern "C" int __clock_gettime(clockid_t clock, timespec* ts);
__asm__(".symver __clock_gettime,__clock_gettime@GLIBC_PRIVATE");

namespace ptshim {

int libc_clock_gettime(clockid_t clock, timespec* ts) { return __clock_gettime(clock, ts); }

namespace {
uint64_t kernel_clock_now_ns(clockid_t clock) {
  timespec ts;
  __clock_gettime(clock, &ts);  // vDSO: no system call
  return ns_from_timespec(ts);
}

// `clock` derived from the virtual CLOCK_MONOTONIC; false if it is not one of the virtual ones.
bool virtual_clock_value(clockid_t clock, uint64_t* ns) {
  uint64_t since_start = g_virtual_clock.now_ns - kVirtualMonotonicStartNs;
  switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
      *ns = kVirtualRealtimeStartNs + since_start;
      return true;
    case CLOCK_TAI:
      *ns = kVirtualRealtimeStartNs + kTaiOffsetNs + since_start;
      return true;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_BOOTTIME:  // nothing suspends a virtual machine
    case CLOCK_BOOTTIME_ALARM:
      *ns = g_virtual_clock.now_ns;
      return true;
    case CLOCK_PROCESS_CPUTIME_ID:
      *ns = virtual_process_cpu_ns();
      return true;
    default:
      return false;
  }
}

uint64_t clock_now_ns(clockid_t clock) {
  uint64_t ns;
  if (g_virtual_clock.on && virtual_clock_value(clock, &ns)) return ns;
  return kernel_clock_now_ns(clock);
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

VirtualClock g_virtual_clock{uint32_t{1} << 31, false, 0, 0, 0};

uint64_t real_monotonic_now_ns() { return kernel_clock_now_ns(CLOCK_MONOTONIC); }

void virtual_time_start() {
  g_virtual_clock.now_ns = kVirtualMonotonicStartNs;
  g_virtual_clock.idle_ns = 0;
  g_virtual_clock.process_start_ns = virtual_busy_ns();
  g_virtual_clock.on = true;
  g_virtual_clock.kernel_clocks_below = 0;
}

void virtual_time_after_fork_in_child() { g_virtual_clock.process_start_ns = virtual_busy_ns(); }

void virtual_time_advance_to(uint64_t ns, bool idle) {
  if (ns <= g_virtual_clock.now_ns) return;
  if (idle) g_virtual_clock.idle_ns += ns - g_virtual_clock.now_ns;
  g_virtual_clock.now_ns = ns;
}

bool virtual_clock_read(clockid_t clock, uint64_t* ns) {
  // Every read takes the quantum (the reader runs meanwhile: it is CPU
  // time), a thread CPU clock's too, so that consecutive reads differ and a
  // loop waiting for any clock ends.
  g_virtual_clock.now_ns += kVirtualReadQuantumNs;
  return virtual_clock_value(clock, ns);
}

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
