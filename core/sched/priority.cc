// Priority levels. A thread is scheduled at the higher of its own level
// (its policy and priority) and the level core/sync raises it to; every
// change goes through here, so the policy always holds a runnable thread at
// its current level, and a change that lets a runnable thread outrank the
// running one preempts it at the next safe point.
#include <sched.h>
#include <sys/syscall.h>

#include "core/sched/sched.h"

namespace ptshim {

namespace {
void apply_level(Thread* t) {
  int level = t->base_level > t->boost_level ? t->base_level : t->boost_level;
  if (level == t->level) return;
  int old_level = t->level;
  t->level = static_cast<uint8_t>(level);
  if (g_policy->level_changed(t, old_level) && g_deferred.switch_wanted == 0) {
    g_deferred.switch_wanted = kSwitchPriority;
  }
}
}  // namespace

int priority_level_of(int policy, int priority) {
  if (policy != SCHED_FIFO && policy != SCHED_RR) return 0;
  if (priority < 0) return 0;
  return priority < kPriorityLevels ? priority : kPriorityLevels - 1;
}

void priority_set_base(Thread* t, int policy, int priority) {
  t->sched_fifo = policy == SCHED_FIFO;
  t->base_level = static_cast<uint8_t>(priority_level_of(policy, priority));
  apply_level(t);
}

int priority_fifo_min() {
  static int min = static_cast<int>(arch::raw_syscall(SYS_sched_get_priority_min, SCHED_FIFO));
  return min;
}

int priority_fifo_max() {
  static int max = static_cast<int>(arch::raw_syscall(SYS_sched_get_priority_max, SCHED_FIFO));
  return max;
}

void priority_set_boost(Thread* t, int level) {
  t->boost_level = static_cast<uint8_t>(level);
  apply_level(t);
}

}  // namespace ptshim
