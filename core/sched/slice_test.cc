// Unit tests of the slice rule (slice.cc; the rule is stated in preempt.cc,
// "SLICES"), driven through preemptions, blocks and yields as the scheduler
// makes them: preempt() is preempt_switch without the timer and the switch,
// give_back() what block and yield do to the flag.
#include <cstdint>

#include "core/sched/sched.h"
#include "core/testing/check.h"

using namespace ptshim;

namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kUs = 1'000;

Thread g_threads[4];  // zero-initialised, as the scheduler's slots
Thread* const A = &g_threads[0];
Thread* const B = &g_threads[1];
Thread* const C = &g_threads[2];
Thread* const D = &g_threads[3];

uint64_t g_timeslice;
uint64_t g_period;  // the slice timer's period
int g_changes;      // how often the timer would have been reprogrammed

void start(uint64_t timeslice) {
  for (Thread& t : g_threads) t = Thread{};
  slice_reset();
  g_timeslice = g_period = timeslice;
  g_changes = 0;
}

void preempt(Thread* t) {
  uint64_t period = slice_after_preemption(t, g_period, g_timeslice);
  if (period != g_period) ++g_changes;
  g_period = period;
  t->preempted = true;
}

void give_back(Thread* t) { t->preempted = false; }

// A spinner S hands work to a worker W that runs a little and blocks; S is
// preempted at every tick. Returns the periods after each preemption of S.
void spin(Thread* s, Thread* w, int rounds, uint64_t* periods) {
  for (int i = 0; i < rounds; i++) {
    preempt(s);
    periods[i] = g_period;
    give_back(w);  // W woke, did its share and blocked
  }
}

void test_cpu_bound_keep_the_timeslice() {
  // Four threads that never block, in round robin: each is hungry from its
  // second preemption on, and they take turns.
  start(10 * kMs);
  bool full = true;
  for (int round = 0; round < 50; round++) {
    for (Thread& t : g_threads) {
      preempt(&t);
      full &= g_period == 10 * kMs;
    }
  }
  CHECK(full);
  CHECK_EQ(g_changes, 0);  // and no timer call

  // Two, and two with a thread that blocks between them.
  start(10 * kMs);
  full = true;
  for (int round = 0; round < 50; round++) {
    preempt(A);
    full &= g_period == 10 * kMs;
    give_back(C);
    preempt(B);
    full &= g_period == 10 * kMs;
  }
  CHECK(full);
  CHECK_EQ(g_changes, 0);
}

void test_spinner_halves_to_the_floor() {
  start(10 * kMs);
  uint64_t p[12];
  spin(A, B, 12, p);
  CHECK_EQ(p[0], 10 * kMs);  // first preemption: nothing known
  CHECK_EQ(p[1], 10 * kMs);  // hungry, but the first hungry one
  CHECK_EQ(p[2], 5 * kMs);
  CHECK_EQ(p[3], 2500 * kUs);
  CHECK_EQ(p[4], 1250 * kUs);
  CHECK_EQ(p[5], 625 * kUs);
  CHECK_EQ(p[6], 312500u);
  CHECK_EQ(p[7], 156250u);
  CHECK_EQ(p[8], kShortestSliceNs);  // 78 us would be below the floor
  CHECK_EQ(p[9], kShortestSliceNs);
  CHECK_EQ(p[11], kShortestSliceNs);
  CHECK_EQ(g_changes, 7);  // the timer is reprogrammed only on the way down
}

void test_worker_caught_by_a_late_tick() {
  start(10 * kMs);
  uint64_t p[12];
  spin(A, B, 12, p);
  // A tick lands on B right after the switch to it: B is not hungry.
  preempt(B);
  CHECK_EQ(g_period, kShortestSliceNs);
  preempt(A);  // B had not finished: A spins once more
  CHECK_EQ(g_period, kShortestSliceNs);
  give_back(B);
  preempt(A);
  CHECK_EQ(g_period, kShortestSliceNs);
  // B caught twice without blocking between is hungry: the two take turns.
  preempt(B);
  preempt(B);
  CHECK_EQ(g_period, 10 * kMs);
}

void test_spinner_that_blocks_gets_the_timeslice_back() {
  start(10 * kMs);
  uint64_t p[12];
  spin(A, B, 12, p);
  CHECK_EQ(g_period, kShortestSliceNs);
  give_back(A);  // A blocks (or yields) at last
  // B runs long: one preemption of it changes nothing.
  preempt(B);
  CHECK_EQ(g_period, kShortestSliceNs);
  give_back(B);
  preempt(A);  // A's next preemption: its slices are back up
  CHECK_EQ(g_period, 10 * kMs);
  // and come down again only if it keeps spinning.
  preempt(A);
  CHECK_EQ(g_period, 5 * kMs);
}

void test_cpu_bound_after_a_spinner() {
  start(10 * kMs);
  uint64_t p[12];
  spin(A, B, 12, p);
  give_back(A);
  // C and D compute from now on: the period is the timeslice once one of
  // them is preempted hungry, after two preemptions each at most.
  preempt(C);
  preempt(D);
  preempt(C);
  CHECK_EQ(g_period, 10 * kMs);
  bool full = true;
  for (int round = 0; round < 20; round++) {
    preempt(D);
    full &= g_period == 10 * kMs;
    preempt(C);
    full &= g_period == 10 * kMs;
  }
  CHECK(full);
}

void test_short_timeslices() {
  // Below the floor: the timeslice is the floor, the period never changes.
  for (uint64_t timeslice : {20 * kUs, 50 * kUs, kShortestSliceNs}) {
    start(timeslice);
    uint64_t p[12];
    spin(A, B, 12, p);
    bool same = true;
    for (uint64_t period : p) same &= period == timeslice;
    CHECK(same);
    CHECK_EQ(g_changes, 0);
  }
  // Just above it: down to the floor, never below.
  start(150 * kUs);
  uint64_t p[6];
  spin(A, B, 6, p);
  CHECK_EQ(p[1], 150 * kUs);
  CHECK_EQ(p[2], kShortestSliceNs);
  CHECK_EQ(p[5], kShortestSliceNs);
}

void test_reset_forgets_the_spinner() {
  start(10 * kMs);
  uint64_t p[4];
  spin(A, B, 4, p);
  CHECK_EQ(g_period, 2500 * kUs);
  slice_reset();  // as preempt_enable and a fork child do
  preempt(A);     // hungry, but no longer the last hungry thread
  CHECK_EQ(g_period, 10 * kMs);
}

}  // namespace

int main() {
  test_cpu_bound_keep_the_timeslice();
  test_spinner_halves_to_the_floor();
  test_worker_caught_by_a_late_tick();
  test_spinner_that_blocks_gets_the_timeslice_back();
  test_cpu_bound_after_a_spinner();
  test_short_timeslices();
  test_reset_forgets_the_spinner();
  return ptshim::testing::finish();
}
