// The policy of a recording run (PTSHIM_SCHEDULE_DIGEST=1 or a seed): the
// chosen policy's decisions, each switch written into the schedule's record
// as it is chosen. The scheduler's mechanism has no test of its own for
// recording: a run that does not record never passes through here.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
const SchedPolicy* g_inner;

enum Choice : uint32_t { kTake = 31, kWaiter = 32 };

// The running thread leaves the processor: why, from the state it is in.
SwitchWhy why_it_leaves(const Thread* self) {
  switch (self->state) {
    case ThreadState::kBlocked:
      return SwitchWhy::kBlock;
    case ThreadState::kExited:
      return SwitchWhy::kExit;
    default:
      return g_preempted_at != SchedPoint::kCount ? SwitchWhy::kPreempt : SwitchWhy::kYield;
  }
}

Thread* recorded_take_next() {
  Thread* t = g_inner->take_next();
  // The seeded policies note their draws; the others' choices are noted here.
  if (!g_inner->sees_every_point) decision_note(kTake, t != nullptr ? t->number : 0);
  Thread* self = current();
  if (t != nullptr && t != self) switch_note(self, t, why_it_leaves(self), g_preempted_at);
  return t;
}

Thread* recorded_choose_waiter(const WaitQueue* q) {
  Thread* t = g_inner->choose_waiter(q);
  if (!g_inner->sees_every_point) decision_note(kWaiter, t->number);
  return t;
}

bool recorded_make_runnable(Thread* t, bool front) { return g_inner->make_runnable(t, front); }
bool recorded_any_runnable() { return g_inner->any_runnable(); }
bool recorded_switch_at(SchedPoint point) { return g_inner->switch_at(point); }
bool recorded_level_changed(Thread* t, int old_level) {
  return g_inner->level_changed(t, old_level);
}
void recorded_after_fork_in_child() { g_inner->after_fork_in_child(); }

SchedPolicy g_recorded = {
    nullptr,
    recorded_make_runnable,
    recorded_take_next,
    recorded_any_runnable,
    recorded_choose_waiter,
    recorded_switch_at,
    recorded_level_changed,
    recorded_after_fork_in_child,
    false,
};
}  // namespace

const SchedPolicy* recorded_policy(const SchedPolicy* inner) {
  g_inner = inner;
  g_recorded.name = inner->name;
  g_recorded.sees_every_point = inner->sees_every_point;
  return &g_recorded;
}

}  // namespace ptshim
