// The observers of the schedule, PTSHIM_STATS (stats.cc) and PTSHIM_TRACE
// (trace.cc), behind one set of hooks: each site tests g_observe once and
// calls a dispatcher here, which works out what both need and tells each
// observer that is on. So a switch counted by one is a switch seen by the
// other: the trace's running slices and the statistics' switches are the
// same events.
//
// INVARIANTS:
// - Nothing here runs unless g_observe, set once at start-up.
// - Everything is written inside the core section, except the deferral
//   stamp (g_deferred_at), which the tick's handler writes when it sets
//   g_deferred.switch_wanted from 0 to kSwitchTick. The core uses and clears
//   the stamp only while switch_wanted is kSwitchTick, before it clears that,
//   so the handler never writes the stamp while the core uses it. A stamp
//   left behind (switch_wanted cleared by a switch that began before the
//   tick) is ignored, since switch_wanted is no longer kSwitchTick, and the
//   next deferral overwrites it.
// - Times passed on are cycle-counter readings, one per hook (the clock every
//   hook can afford: no system call).
#include "core/sched/sched.h"

namespace ptshim {

uint8_t g_observe;

namespace {
// The cycle counter when a tick deferred its switch; 0: none pending.
volatile uint64_t g_deferred_at;
bool g_priority_switch;  // the next switch makes way for a higher priority

void deferred_resolved(DeferredFate fate, uint64_t now) {
  uint64_t at = g_deferred_at;
  g_deferred_at = 0;
  if (g_observe & kObserveStats) stats_count_deferred(fate, now - at);
  if (g_observe & kObserveTrace) trace_deferred(fate, at, now);
}
}  // namespace

void observe_switch(const Thread* from, Thread* to) {
  uint64_t now = arch::cycle_counter();
  // Its wait kind is still set: it returns into block(), its wait ended.
  if (to->wait_kind != WaitKind::kNone) {
    if (g_observe & kObserveStats) stats_count_wait_end(to, now);
    if (g_observe & kObserveTrace) trace_wait_end(to, now);
  }
  bool priority = g_priority_switch;
  g_priority_switch = false;
  if (to == from) return;
  SwitchWhy why = SwitchWhy::kYield;
  SchedPoint point = SchedPoint::kCount;
  // (A thread whose wait ended while the kernel thread slept, before this
  // switch, is runnable again but still in block(): its wait kind is set.)
  if (from->state == ThreadState::kBlocked || from->wait_kind != WaitKind::kNone) {
    why = SwitchWhy::kBlock;
  } else if (from->state == ThreadState::kExited) {
    why = SwitchWhy::kExit;
  } else if (priority) {
    why = SwitchWhy::kPriority;
  } else if (g_preempted_at != SchedPoint::kCount) {
    why = SwitchWhy::kPreempt;
    point = g_preempted_at;
  }
  if (g_observe & kObserveStats) stats_count_switch(why, point);
  if (g_observe & kObserveTrace) trace_switch(const_cast<Thread*>(from), to, why, point, now);
  // A deferred tick still pending (no safe point took it): this preemption
  // at a tick serves it, any other switch ends it first.
  if (g_deferred_at != 0 && g_deferred.switch_wanted == kSwitchTick) {
    bool served = why == SwitchWhy::kPreempt && point == SchedPoint::kTick;
    deferred_resolved(served ? DeferredFate::kTaken : DeferredFate::kOvertaken, now);
  }
}

void observe_priority_switch() { g_priority_switch = true; }

void observe_deferred() { g_deferred_at = arch::cycle_counter(); }

void observe_safe_point() {
  if (g_deferred_at == 0 || g_deferred.switch_wanted != kSwitchTick) return;
  // Only one that still wants the processor for another thread counts.
  if (g_policy->any_runnable()) {
    deferred_resolved(DeferredFate::kTaken, arch::cycle_counter());
  } else {
    g_deferred_at = 0;
  }
}

void observe_stop(Thread* self) {
  uint64_t now = arch::cycle_counter();
  self->stats_blocked_at = now;
  if (g_observe & kObserveTrace) trace_stop(self, now);
}

void observe_thread_created(Thread* t, size_t alive) {
  if (g_observe & kObserveStats) stats_count_thread_created(alive);
  if (g_observe & kObserveTrace) trace_thread_created(t, arch::cycle_counter());
}

void observe_thread_exit(Thread* self) {
  if (g_observe & kObserveStats) stats_count_thread_exit();
  if (g_observe & kObserveTrace) trace_thread_exit(self, arch::cycle_counter());
}

}  // namespace ptshim
