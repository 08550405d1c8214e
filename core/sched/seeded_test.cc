// Unit tests of the seeded policies (policy_random.cc, policy_pct.cc), what
// they share (seeded.cc) and the schedule's record (decision.cc): the same
// seed makes the same choices, the draws are fair, PCT runs the highest
// priority and moves it at its change points, and PTSHIM_PREEMPT_SKIP
// declines exactly the preemptions it names.
#include <stdio.h>
#include <stdlib.h>

#include <cstdint>

#include "core/diag/diag.h"
#include "core/sched/sched.h"
#include "core/testing/check.h"

using namespace ptshim;

// The scheduler around the policies: a running thread, and the report the
// record would write.
namespace ptshim {
Thread g_running;
Thread* current() { return &g_running; }
int g_shown;
void report_preemption(uint64_t, const Thread*, const Thread*) { ++g_shown; }
uint64_t kernel_thread_cpu_ns() { return 0; }
}  // namespace ptshim

namespace {

Thread g_threads[8];

void reset_threads() {
  for (size_t i = 0; i < 8; ++i) {
    g_threads[i] = Thread{};
    g_threads[i].number = i + 2;
    g_threads[i].state = ThreadState::kRunnable;
  }
  g_running = Thread{};
  g_running.number = 1;
  g_running.state = ThreadState::kRunning;
}

// Every thread runnable, then `picks` takes: the numbers taken, as a string.
void take_sequence(const SchedPolicy& p, uint64_t seed, int picks, char* out) {
  reset_threads();
  sched_random_seed(seed);
  p.after_fork_in_child();  // an empty run set
  for (Thread& t : g_threads) p.make_runnable(&t, false);
  for (int i = 0; i < picks; ++i) {
    Thread* t = p.take_next();
    out[i] = static_cast<char>('0' + t->number);
    p.make_runnable(t, false);
  }
  out[picks] = '\0';
}

void test_run_set() {
  reset_threads();
  RunSet set{};
  for (Thread& t : g_threads) run_set_add(&set, &t);
  CHECK_EQ(set.count, size_t{8});
  run_set_remove(&set, &g_threads[2]);
  CHECK_EQ(set.count, size_t{7});
  for (size_t i = 0; i < set.count; ++i) {
    CHECK(set.items[i] != &g_threads[2]);
    CHECK_EQ(set.items[i]->run_slot, static_cast<uint32_t>(i));
  }
  Thread* t = run_set_take(&set, 0);
  CHECK(t == &g_threads[0]);
  CHECK_EQ(set.count, size_t{6});
}

void test_generator() {
  sched_random_seed(7);
  uint64_t a = sched_random(), b = sched_random();
  sched_random_seed(7);
  CHECK_EQ(sched_random(), a);
  CHECK_EQ(sched_random(), b);
  sched_random_seed(8);
  CHECK(sched_random() != a);
  int counts[3] = {};
  for (int i = 0; i < 30000; ++i) ++counts[sched_random_below(3)];
  for (int c : counts) CHECK(c > 9500 && c < 10500);
}

void test_random_is_a_function_of_the_seed() {
  char one[65], again[65], other[65];
  take_sequence(kRandomPolicy, 1, 64, one);
  take_sequence(kRandomPolicy, 1, 64, again);
  take_sequence(kRandomPolicy, 2, 64, other);
  CHECK_STREQ(one, again);
  CHECK(strcmp(one, other) != 0);
}

void test_random_switch_rate() {
  reset_threads();
  sched_random_seed(3);
  kRandomPolicy.after_fork_in_child();
  for (int i = 0; i < 3; ++i) kRandomPolicy.make_runnable(&g_threads[i], false);
  int switches = 0;
  for (int i = 0; i < 4000; ++i) {
    if (kRandomPolicy.switch_at(SchedPoint::kUncontendedLock)) {
      ++switches;
      Thread* t = kRandomPolicy.take_next();  // the drawn one
      kRandomPolicy.make_runnable(t, false);
    }
  }
  CHECK(switches > 2800 && switches < 3200);  // 3 of 4: the running one is a choice too
}

void test_pct_runs_the_highest() {
  char seq[17];
  // PCT takes the highest priority every time: the same thread again and
  // again while it stays runnable, once no change point comes.
  take_sequence(kPctPolicy, 5, 16, seq);
  for (int i = 1; i < 16; ++i) CHECK(seq[i] == seq[0]);
  reset_threads();
  kPctPolicy.after_fork_in_child();
  for (Thread& t : g_threads) kPctPolicy.make_runnable(&t, false);
  Thread* top = kPctPolicy.take_next();
  for (Thread* t = kPctPolicy.take_next(); t != nullptr; t = kPctPolicy.take_next()) {
    CHECK(t->pct_priority < top->pct_priority);
    top = t;
  }
}

void test_preemption_skip() {
  uint64_t first = preemption_count() + 1;  // the earlier tests preempted too
  char skip[64], show[32];
  snprintf(skip, sizeof skip, "%llu,%llu", static_cast<unsigned long long>(first + 1),
           static_cast<unsigned long long>(first + 3));
  snprintf(show, sizeof show, "%llu", static_cast<unsigned long long>(first + 2));
  setenv("PTSHIM_PREEMPT_SKIP", skip, 1);
  setenv("PTSHIM_PREEMPT_SHOW", show, 1);
  parse_options_or_exit(0);
  reset_threads();
  bool taken[5];
  for (bool& t : taken) t = preemption_take(&g_running, &g_threads[0]);
  CHECK(taken[0]);
  CHECK(!taken[1]);
  CHECK(taken[2]);
  CHECK(!taken[3]);
  CHECK(taken[4]);
  CHECK_EQ(preemption_count(), first + 4);
  CHECK_EQ(g_shown, 1);
}

void test_digest() {
  uint64_t before = schedule_digest();
  uint64_t count = decision_count();
  decision_note(1, 2);
  CHECK_EQ(decision_count(), count + 1);
  CHECK(schedule_digest() != before);
}

}  // namespace

int main() {
  test_run_set();
  test_generator();
  test_random_is_a_function_of_the_seed();
  test_random_switch_rate();
  test_pct_runs_the_highest();
  test_preemption_skip();
  test_digest();
  return ptshim::testing::finish();
}
