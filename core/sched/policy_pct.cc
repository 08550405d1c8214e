// PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi,
// Nagarakatte, ASPLOS 2010): every thread gets a random priority when the
// policy first sees it, the highest-priority runnable thread always runs, and
// at d - 1 steps drawn uniformly from 1..k (PTSHIM_PCT_STEPS; explore passes
// the first run's count) the running thread's priority drops to i, the
// number of the change point, below every priority drawn. A bug of depth d
// among n threads is then found with probability at least 1/(n k^(d-1)) per
// run. A step is a decision of the schedule's record: every scheduling
// point, block, yield and exit.
//
// Two departures, for programs that wait by spinning: a thread that yields
// (sched_yield) drops below every other priority, or a spin-yield loop at
// the top would never let the thread it waits for run; and the timer's
// backstop (seeded.cc: a whole real slice without a decision) does the same
// to a thread that spins without yielding (counted as not replayable).
//
// INVARIANTS:
// - pct_priority is 0 until the policy first sees a thread. Drawn ones lie
//   above kDrawnFloor; change point i gives kChangeFloor + i, below all of
//   them; a yield gives a new lowest priority below kChangeFloor, below every
//   other thread's.
// - g_preempting is set only between switch_at's "yes" and the yield's
//   make_runnable of the preempted thread, which keeps its priority.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
RunSet g_runnable;
bool g_started;
uint64_t g_change_at[kPctMaxDepth];  // ascending decision numbers
int g_changes;                       // d - 1
int g_next_change;                   // index of the next change point
uint64_t g_lowest;                   // the lowest priority a yield gave
bool g_preempting;

constexpr uint64_t kDrawnFloor = uint64_t{1} << 62;
constexpr uint64_t kChangeFloor = uint64_t{1} << 61;

enum Choice : uint32_t { kTake = 11, kStayOrSwitch = 12, kWaiter = 13 };

void start() {
  g_started = true;
  g_changes = options().pct_depth - 1;
  for (int i = 0; i < g_changes; ++i) g_change_at[i] = 1 + sched_random_below(options().pct_steps);
  for (int i = 1; i < g_changes; ++i) {  // insertion sort: at most 31 of them
    for (int j = i; j > 0 && g_change_at[j] < g_change_at[j - 1]; --j) {
      uint64_t step = g_change_at[j];
      g_change_at[j] = g_change_at[j - 1];
      g_change_at[j - 1] = step;
    }
  }
  g_lowest = kChangeFloor;
}

uint64_t priority(Thread* t) {
  if (!g_started) start();
  if (t->pct_priority == 0) {
    t->pct_priority = kDrawnFloor + (sched_random() >> 2);
  }
  return t->pct_priority;
}

// Below every other thread's priority.
void demote(Thread* t) {
  priority(t);
  t->pct_priority = --g_lowest;
}

// A decision was just noted: the running thread takes a change point's
// priority if this step is one (several points may share a step).
void after_step() {
  if (!g_started) start();
  while (g_next_change < g_changes && g_change_at[g_next_change] <= decision_count()) {
    ++g_next_change;
    current()->pct_priority = kChangeFloor + static_cast<uint64_t>(g_next_change);
  }
}

Thread* highest(const RunSet& set) {
  Thread* best = nullptr;
  for (size_t i = 0; i < set.count; ++i) {
    Thread* t = set.items[i];
    if (best == nullptr || priority(t) > priority(best)) best = t;
  }
  return best;
}

bool pct_make_runnable(Thread* t, bool /*front*/) {
  if (t == current() && t->state == ThreadState::kRunnable) {
    if (!g_preempting) demote(t);  // a yield
    g_preempting = false;
  }
  priority(t);
  run_set_add(&g_runnable, t);
  return false;  // the next scheduling point compares priorities
}

Thread* pct_take_next() {
  Thread* t = highest(g_runnable);
  decision_note(kTake, t != nullptr ? t->number : 0);
  after_step();
  if (t != nullptr) run_set_remove(&g_runnable, t);
  return t;
}

bool pct_any_runnable() { return g_runnable.count != 0; }

Thread* pct_choose_waiter(const WaitQueue* q) {
  Thread* best = q->head;
  for (Thread* t = best->next; t != nullptr; t = t->next) {
    if (priority(t) > priority(best)) best = t;
  }
  decision_note(kWaiter, best->number);
  return best;
}

bool pct_switch_at(SchedPoint point) {
  Thread* self = current();
  if (point == SchedPoint::kTick) {  // the backstop (see the top)
    if (!seeded_tick_preempts()) return false;
    demote(self);
    g_preempting = true;
    return true;
  }
  Thread* best = highest(g_runnable);
  bool higher = best != nullptr && priority(best) > priority(self);
  decision_note(kStayOrSwitch, higher ? best->number : 0);
  after_step();  // a change point here may lower the running thread
  higher = best != nullptr && priority(best) > priority(self);
  if (!higher || !preemption_take(self, best)) return false;
  g_preempting = true;
  return true;
}

bool pct_level_changed(Thread* /*t*/, int /*old_level*/) { return false; }

void pct_after_fork_in_child() {
  g_runnable.count = 0;
  g_preempting = false;
}
}  // namespace

const SchedPolicy kPctPolicy = {
    "pct",
    pct_make_runnable,
    pct_take_next,
    pct_any_runnable,
    pct_choose_waiter,
    pct_switch_at,
    pct_level_changed,
    pct_after_fork_in_child,
    true,
};

}  // namespace ptshim
