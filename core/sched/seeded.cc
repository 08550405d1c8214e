// What the seeded policies (random, pct) share: the set of runnable threads
// they draw from (sched.h, RunSet) and the timer's backstop rule.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
uint64_t g_decisions_at_last_tick = ~uint64_t{0};
uint64_t g_cpu_at_last_decision_tick;
}  // namespace

// Where a tick lands depends on timing, so it is no decision of a seeded
// schedule; it only keeps a thread that spins without any scheduling point
// (no library call) from holding the processor forever. So a tick preempts
// only when no decision was made for a whole timeslice of the kernel
// thread's CPU time: ticks that come close together (a host that did not
// run the process for a while delivers the missed ones at once) or after a
// short computation leave the schedule alone.
bool seeded_tick_preempts() {
  uint64_t decisions = decision_count();
  uint64_t cpu = kernel_thread_cpu_ns();
  if (decisions != g_decisions_at_last_tick) {
    g_decisions_at_last_tick = decisions;
    g_cpu_at_last_decision_tick = cpu;
    return false;
  }
  return cpu - g_cpu_at_last_decision_tick >= options().timeslice_ns;
}

void run_set_add(RunSet* set, Thread* t) {
  if (set->count == set->capacity) {
    set->items = internal_grow(set->items, set->count, &set->capacity, 64);
  }
  t->run_slot = static_cast<uint32_t>(set->count);
  set->items[set->count++] = t;
}

// The last one takes the removed one's place: the order stays a function of
// the adds and removes alone.
void run_set_remove(RunSet* set, Thread* t) {
  size_t i = t->run_slot;
  Thread* last = set->items[--set->count];
  set->items[i] = last;
  last->run_slot = static_cast<uint32_t>(i);
}

Thread* run_set_take(RunSet* set, size_t i) {
  Thread* t = set->items[i];
  run_set_remove(set, t);
  return t;
}

}  // namespace ptshim
