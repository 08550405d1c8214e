// Seeded random scheduling: at every scheduling point the thread that runs
// next is drawn, uniformly, from the running thread and the runnable ones;
// a wake-one takes a uniformly drawn waiter. Priorities are not applied: on
// a machine with several CPUs a lower-priority thread runs alongside a
// higher one, and those interleavings are the ones to explore.
//
// A thread the timer's backstop preempted (it spins on a plain variable,
// seeded.cc) is drawn only when no other thread is runnable, until it
// reaches a scheduling point of its own: on a machine with more CPUs it
// would spin on one while the others go on, and drawing it among them
// would cost a whole timeslice each time it came up.
//
// INVARIANTS:
// - Every draw is from the schedule's generator and is noted in the
//   schedule's record (decision_note), whatever is done with it.
// - A runnable thread is in g_spinners if seeded_spinner is set, else in
//   g_runnable.
// - g_chosen, when set, is a member of g_runnable: the thread switch_at drew,
//   which the yield that follows takes first.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
RunSet g_runnable;
RunSet g_spinners;
Thread* g_chosen;

enum Choice : uint32_t { kTake = 1, kStayOrSwitch = 2, kWaiter = 3 };

bool random_make_runnable(Thread* t, bool /*front*/) {
  run_set_add(t->seeded_spinner ? &g_spinners : &g_runnable, t);
  return false;  // the next scheduling point draws
}

Thread* random_take_next() {
  // The running thread stops spinning when it blocks or exits.
  if (current()->state != ThreadState::kRunnable) current()->seeded_spinner = false;
  if (Thread* t = g_chosen) {
    g_chosen = nullptr;
    run_set_remove(&g_runnable, t);
    return t;
  }
  RunSet* set = g_runnable.count != 0 ? &g_runnable : &g_spinners;
  if (set->count == 0) return nullptr;
  Thread* t = run_set_take(set, sched_random_below(set->count));
  decision_note(kTake, t->number);
  return t;
}

bool random_any_runnable() { return g_runnable.count + g_spinners.count != 0; }

Thread* random_choose_waiter(const WaitQueue* q) {
  uint64_t n = 0;
  for (Thread* t = q->head; t != nullptr; t = t->next) ++n;
  Thread* t = q->head;
  for (uint64_t i = n > 1 ? sched_random_below(n) : 0; i > 0; --i) t = t->next;
  decision_note(kWaiter, t->number);
  return t;
}

// Asked only while another thread is runnable. A tick is the timer's
// backstop (seeded.cc): the yield that follows draws among all.
bool random_switch_at(SchedPoint point) {
  Thread* self = current();
  if (point == SchedPoint::kTick) {
    if (!seeded_tick_preempts()) return false;
    self->seeded_spinner = true;
    return true;
  }
  self->seeded_spinner = false;  // it reached a scheduling point
  size_t n = g_runnable.count;
  if (n == 0) return false;                // only spinners: they wait for this thread
  uint64_t c = sched_random_below(n + 1);  // n: the running thread goes on
  Thread* to = c < n ? g_runnable.items[c] : nullptr;
  decision_note(kStayOrSwitch, to != nullptr ? to->number : 0);
  if (to == nullptr || !preemption_take(self, to)) return false;
  g_chosen = to;
  return true;
}

bool random_level_changed(Thread* /*t*/, int /*old_level*/) { return false; }

void random_after_fork_in_child() {
  g_runnable.count = 0;
  g_spinners.count = 0;
  current()->seeded_spinner = false;
  g_chosen = nullptr;
}
}  // namespace

const SchedPolicy kRandomPolicy = {
    "random",
    random_make_runnable,
    random_take_next,
    random_any_runnable,
    random_choose_waiter,
    random_switch_at,
    random_level_changed,
    random_after_fork_in_child,
    true,
};

}  // namespace ptshim
