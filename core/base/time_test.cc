// Unit tests of time and deadlines (base.h, time.cc): timespec conversions,
// the clocks each kind of wait accepts, and deadlines from relative and
// absolute times on every sleepable clock.
#include <errno.h>

#include <climits>
#include <cstdint>
#include <ctime>

#include "core/base/base.h"
#include "core/testing/check.h"

using namespace ptshim;

namespace {
// Clocks that neither the timed waits nor clock_nanosleep accept.
const clockid_t kUnsupportedClocks[] = {CLOCK_PROCESS_CPUTIME_ID,
                                        CLOCK_THREAD_CPUTIME_ID,
                                        CLOCK_MONOTONIC_RAW,
                                        CLOCK_REALTIME_COARSE,
                                        CLOCK_MONOTONIC_COARSE,
                                        CLOCK_REALTIME_ALARM,
                                        CLOCK_BOOTTIME_ALARM,
                                        -1,
                                        12345,
                                        INT_MIN};

constexpr uint64_t kTolerance = 200'000'000;  // 200 ms of scheduling noise

uint64_t now_on(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ns_from_timespec(ts);
}

timespec ts(long long sec, long nsec) { return timespec{static_cast<time_t>(sec), nsec}; }

void test_conversions() {
  struct Case {
    uint64_t ns;
    time_t sec;
    long nsec;
  };
  const Case cases[] = {
      {0, 0, 0},
      {1, 0, 1},
      {999'999'999, 0, 999'999'999},
      {1'000'000'000, 1, 0},
      {1'000'000'001, 1, 1},
      {1'500'000'000, 1, 500'000'000},
      {uint64_t{1} << 32, 4, 294'967'296},
      {uint64_t{INT64_MAX}, 9'223'372'036, 854'775'807},
      {UINT64_MAX - 1, 18'446'744'073, 709'551'614},
      {UINT64_MAX, 18'446'744'073, 709'551'615},
  };
  for (const Case& c : cases) {
    timespec t = timespec_from_ns(c.ns);
    CHECK_EQ(t.tv_sec, c.sec);
    CHECK_EQ(t.tv_nsec, c.nsec);
    CHECK_EQ(ns_from_timespec(t), c.ns);
    CHECK(timespec_is_valid(&t));
  }
  // Round trips over a spread of values.
  uint64_t x = 0x243f6a8885a308d3u;
  bool round_trips = true;
  for (int i = 0; i < 100000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t v = x >> (i % 64);
    timespec t = timespec_from_ns(v);
    round_trips &= ns_from_timespec(t) == v && timespec_is_valid(&t) && t.tv_sec >= 0;
  }
  CHECK(round_trips);
  CHECK_EQ(ns_from_timespec(ts(2, 5)), 2'000'000'005u);
  CHECK_EQ(ns_from_timespec(ts(0, 999'999'999)), 999'999'999u);
}

void test_is_valid() {
  const timespec good[] = {ts(0, 0),  ts(0, 999'999'999),         ts(1, 0),        ts(-1, 0),
                           ts(-5, 5), ts(LLONG_MAX, 999'999'999), ts(LLONG_MIN, 0)};
  for (const timespec& t : good) CHECK(timespec_is_valid(&t));  // only tv_nsec is checked
  const timespec bad[] = {ts(0, -1),       ts(0, 1'000'000'000), ts(1, LONG_MAX),
                          ts(1, LONG_MIN), ts(-1, -1),           ts(0, 1'000'000'001)};
  for (const timespec& t : bad) CHECK(!timespec_is_valid(&t));
}

void test_clocks() {
  CHECK(clock_is_waitable(CLOCK_REALTIME));
  CHECK(clock_is_waitable(CLOCK_MONOTONIC));
  CHECK(clock_is_sleepable(CLOCK_REALTIME));
  CHECK(clock_is_sleepable(CLOCK_MONOTONIC));
  CHECK(clock_is_sleepable(CLOCK_BOOTTIME));
  CHECK(clock_is_sleepable(CLOCK_TAI));
  CHECK(!clock_is_waitable(CLOCK_BOOTTIME));
  CHECK(!clock_is_waitable(CLOCK_TAI));

  for (clockid_t c : kUnsupportedClocks) {
    CHECK(!clock_is_waitable(c));
    CHECK(!clock_is_sleepable(c));
  }
}

void test_monotonic_now() {
  uint64_t a = now_on(CLOCK_MONOTONIC);
  uint64_t b = monotonic_now_ns();
  uint64_t c = now_on(CLOCK_MONOTONIC);
  CHECK(a <= b && b <= c);
  CHECK(b > 0);
}

void test_relative() {
  uint64_t d = 0;
  uint64_t before = monotonic_now_ns();
  timespec zero = ts(0, 0);
  CHECK_EQ(deadline_from_relative(&zero, &d), 0);
  uint64_t after = monotonic_now_ns();
  CHECK(d >= before && d <= after);

  timespec one = ts(1, 250'000'000);
  before = monotonic_now_ns();
  CHECK_EQ(deadline_from_relative(&one, &d), 0);
  after = monotonic_now_ns();
  CHECK(d >= before + 1'250'000'000 && d <= after + 1'250'000'000);

  timespec day = ts(86400, 1);
  before = monotonic_now_ns();
  CHECK_EQ(deadline_from_relative(&day, &d), 0);
  after = monotonic_now_ns();
  CHECK(d >= before + 86'400'000'000'001 && d <= after + 86'400'000'000'001);

  // Bad intervals: EINVAL, the deadline left alone.
  const timespec bad[] = {ts(-1, 0), ts(-1, 999'999'999),  ts(LLONG_MIN, 0),
                          ts(0, -1), ts(0, 1'000'000'000), ts(5, LONG_MAX)};
  for (const timespec& t : bad) {
    d = 12345;
    CHECK_EQ(deadline_from_relative(&t, &d), EINVAL);
    CHECK_EQ(d, 12345u);
  }

  // Saturation: an interval as long as a uint64_t of nanoseconds, or a
  // nanosecond short of it, ends at UINT64_MAX ("never").
  timespec max = timespec_from_ns(UINT64_MAX);
  CHECK_EQ(deadline_from_relative(&max, &d), 0);
  CHECK_EQ(d, UINT64_MAX);
  timespec almost = timespec_from_ns(UINT64_MAX - 1'000'000);
  CHECK_EQ(deadline_from_relative(&almost, &d), 0);
  CHECK_EQ(d, UINT64_MAX);
  timespec huge = ts(LLONG_MAX, 999'999'999);
  CHECK_EQ(deadline_from_relative(&huge, &d), 0);
  CHECK_EQ(d, UINT64_MAX);

  // Seconds past what fits in a uint64_t of nanoseconds (about 584 years)
  // saturate: tv_sec * 10^9 must not wrap to a short wait.
  timespec past_fit = ts(18'446'744'074, 0);  // would wrap to 290448384 ns
  before = monotonic_now_ns();
  CHECK_EQ(deadline_from_relative(&past_fit, &d), 0);
  CHECK(d == UINT64_MAX);
  timespec wraps_to_zero = ts(int64_t{1} << 55, 0);  // 2^55 * 10^9 = 0 mod 2^64
  CHECK_EQ(deadline_from_relative(&wraps_to_zero, &d), 0);
  CHECK(d == UINT64_MAX);
}

// A future time on `clock` becomes the same distance ahead on the
// monotonic clock.
void check_future_on(clockid_t clock, uint64_t ahead_ns) {
  uint64_t d = 0;
  uint64_t mono_before = monotonic_now_ns();
  timespec target = timespec_from_ns(now_on(clock) + ahead_ns);
  CHECK_EQ(deadline_from_abstime(clock, &target, &d), 0);
  uint64_t mono_after = monotonic_now_ns();
  if (!CHECK(d + kTolerance >= mono_before + ahead_ns && d <= mono_after + ahead_ns + kTolerance)) {
    printf("  clock %d: deadline %llu, monotonic %llu..%llu + %llu\n", static_cast<int>(clock),
           static_cast<unsigned long long>(d), static_cast<unsigned long long>(mono_before),
           static_cast<unsigned long long>(mono_after), static_cast<unsigned long long>(ahead_ns));
  }
}

void test_abstime() {
  uint64_t d = 0;
  const clockid_t sleepable[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, CLOCK_TAI};

  // On the monotonic clock a future time is the deadline itself.
  uint64_t target = monotonic_now_ns() + 3'000'000'000;
  timespec t = timespec_from_ns(target);
  CHECK_EQ(deadline_from_abstime(CLOCK_MONOTONIC, &t, &d), 0);
  CHECK_EQ(d, target);

  for (clockid_t c : sleepable) {
    check_future_on(c, 1'000'000'000);
    check_future_on(c, 3600 * kNsPerSec);
  }

  // Times already past, however far, give 1: a deadline, and already due.
  for (clockid_t c : sleepable) {
    uint64_t now = now_on(c);
    const timespec past[] = {ts(0, 0),
                             ts(0, 1),
                             ts(-1, 0),
                             ts(-1, 999'999'999),
                             ts(LLONG_MIN, 0),
                             timespec_from_ns(now / 2),
                             timespec_from_ns(now - 1'000'000'000),
                             timespec_from_ns(now)};
    for (const timespec& p : past) {
      d = 0;
      CHECK_EQ(deadline_from_abstime(c, &p, &d), 0);
      CHECK_EQ(d, 1u);
    }
  }

  // Saturation: the latest representable time on the monotonic clock is
  // UINT64_MAX itself; tv_sec far past it (but not wrapping) saturates too.
  timespec max = timespec_from_ns(UINT64_MAX);
  CHECK_EQ(deadline_from_abstime(CLOCK_MONOTONIC, &max, &d), 0);
  CHECK_EQ(d, UINT64_MAX);
  // On the realtime clock it is UINT64_MAX less the clocks' difference.
  uint64_t mono = monotonic_now_ns();
  uint64_t real = now_on(CLOCK_REALTIME);
  CHECK_EQ(deadline_from_abstime(CLOCK_REALTIME, &max, &d), 0);
  if (real >= mono) {
    uint64_t expected = UINT64_MAX - (real - mono);
    CHECK(d <= expected + kTolerance && d + kTolerance >= expected);
  }
  timespec huge = ts(LLONG_MAX, 999'999'999);
  CHECK_EQ(deadline_from_abstime(CLOCK_MONOTONIC, &huge, &d), 0);
  CHECK(d > UINT64_MAX - 2'000'000'000);  // saturated

  // Seconds past what fits in a uint64_t of nanoseconds saturate, as for
  // relative times: {18446744074 s, 0} must not wrap to 0.29 s after the
  // epoch (long past, an immediate timeout).
  timespec past_fit = ts(18'446'744'074, 0);
  CHECK_EQ(deadline_from_abstime(CLOCK_REALTIME, &past_fit, &d), 0);
  CHECK(d > monotonic_now_ns() + uint64_t{100} * 365 * 86400 * kNsPerSec);

  // Bad times and clocks: EINVAL, the deadline left alone.
  const timespec bad[] = {ts(0, -1), ts(0, 1'000'000'000), ts(-1, -1), ts(1, LONG_MAX)};
  for (clockid_t c : sleepable) {
    for (const timespec& b : bad) {
      d = 777;
      CHECK_EQ(deadline_from_abstime(c, &b, &d), EINVAL);
      CHECK_EQ(d, 777u);
    }
  }

  timespec future = timespec_from_ns(monotonic_now_ns() + kNsPerSec);
  for (clockid_t c : kUnsupportedClocks) {
    d = 777;
    CHECK_EQ(deadline_from_abstime(c, &future, &d), EINVAL);
    CHECK_EQ(d, 777u);
  }
}

}  // namespace

// Virtual time, last: it stays on once started.
void test_virtual_time() {
  virtual_time_start();
  CHECK_EQ(monotonic_now_ns(), kVirtualMonotonicStartNs);
  CHECK_EQ(monotonic_now_ns(), kVirtualMonotonicStartNs);  // ptshim's reads do not move it
  uint64_t ns = 0;
  CHECK(virtual_clock_read(CLOCK_MONOTONIC, &ns));
  CHECK_EQ(ns, kVirtualMonotonicStartNs + kVirtualReadQuantumNs);
  CHECK(virtual_clock_read(CLOCK_REALTIME, &ns));
  CHECK_EQ(ns, kVirtualRealtimeStartNs + 2 * kVirtualReadQuantumNs);
  CHECK(virtual_clock_read(CLOCK_TAI, &ns));
  CHECK_EQ(ns, kVirtualRealtimeStartNs + kTaiOffsetNs + 3 * kVirtualReadQuantumNs);
  CHECK(virtual_clock_read(CLOCK_BOOTTIME, &ns));
  CHECK_EQ(ns, kVirtualMonotonicStartNs + 4 * kVirtualReadQuantumNs);
  CHECK(virtual_clock_read(CLOCK_PROCESS_CPUTIME_ID, &ns));
  CHECK_EQ(ns, 5 * kVirtualReadQuantumNs);                   // every read so far was CPU time
  CHECK(!virtual_clock_read(CLOCK_THREAD_CPUTIME_ID, &ns));  // core/sched's to answer
  uint64_t now = monotonic_now_ns();
  CHECK_EQ(now, kVirtualMonotonicStartNs + 6 * kVirtualReadQuantumNs);

  // An idle jump is nobody's CPU time; a busy one is.
  virtual_time_advance_to(now + 10 * kNsPerSec, true);
  CHECK_EQ(monotonic_now_ns(), now + 10 * kNsPerSec);
  CHECK_EQ(virtual_process_cpu_ns(), 6 * kVirtualReadQuantumNs);
  virtual_time_advance_to(now + 11 * kNsPerSec, false);
  CHECK_EQ(virtual_process_cpu_ns(), 6 * kVirtualReadQuantumNs + kNsPerSec);
  virtual_time_advance_to(now, true);  // never back
  CHECK_EQ(monotonic_now_ns(), now + 11 * kNsPerSec);
  virtual_time_after_fork_in_child();
  CHECK_EQ(virtual_process_cpu_ns(), 0u);

  // Deadlines are on the virtual clock, from every sleepable clock.
  now = monotonic_now_ns();
  uint64_t deadline = 0;
  timespec two{2, 0};
  CHECK_EQ(deadline_from_relative(&two, &deadline), 0);
  CHECK_EQ(deadline, now + 2 * kNsPerSec);
  uint64_t realtime = kVirtualRealtimeStartNs + (now - kVirtualMonotonicStartNs);
  timespec at = timespec_from_ns(realtime + 3 * kNsPerSec);
  CHECK_EQ(deadline_from_abstime(CLOCK_REALTIME, &at, &deadline), 0);
  CHECK_EQ(deadline, now + 3 * kNsPerSec);
  at = timespec_from_ns(realtime + kTaiOffsetNs + 4 * kNsPerSec);
  CHECK_EQ(deadline_from_abstime(CLOCK_TAI, &at, &deadline), 0);
  CHECK_EQ(deadline, now + 4 * kNsPerSec);
  at = timespec_from_ns(now + 5 * kNsPerSec);
  CHECK_EQ(deadline_from_abstime(CLOCK_BOOTTIME, &at, &deadline), 0);
  CHECK_EQ(deadline, now + 5 * kNsPerSec);
  at = timespec_from_ns(realtime - 1);
  CHECK_EQ(deadline_from_abstime(CLOCK_REALTIME, &at, &deadline), 0);
  CHECK_EQ(deadline, 1u);             // past
  CHECK_EQ(monotonic_now_ns(), now);  // none of it moved the clock

  // Beyond the horizon a deadline is forever to the jumps.
  CHECK(virtual_deadline_reachable(now + 365 * 86400 * kNsPerSec));
  CHECK(virtual_deadline_reachable(1));
  CHECK(!virtual_deadline_reachable(now + kVirtualHorizonNs));
  CHECK(!virtual_deadline_reachable(UINT64_MAX));
}

int main() {
  test_conversions();
  test_is_valid();
  test_clocks();
  test_monotonic_now();
  test_relative();
  test_abstime();
  test_virtual_time();
  return ptshim::testing::finish();
}
