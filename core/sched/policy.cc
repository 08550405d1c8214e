// The policy in force, chosen once at start-up, before a second thread
// exists (a policy's run queue is never handed over to another).
#include "core/sched/sched.h"

namespace ptshim {

const SchedPolicy* g_policy = &kFifoPolicy;
bool g_policy_sees_every_point = false;
bool g_sync_testing = false;

void sched_select_policy(const SchedPolicy* policy) {
  g_policy = policy;
  g_policy_sees_every_point = policy->sees_every_point;
  g_sync_testing = policy->sees_every_point || options().spurious_wakeups;
}

int g_no_scheduling_points;

// Not inside a composite step, and not while the thread holds a stdio lock
// (flockfile): glibc's stdio does not lock for itself under ptshim, so a
// switch there would let other threads' output into the locked region,
// which natively they would wait for (core/sync/file_lock.cc).
void scheduling_point_slow(SchedPoint point) {
  // A report's own library calls (libunwind's locks) are not the program's.
  if (g_no_scheduling_points != 0 || g_reporting || current()->file_locks_held != 0) return;
  if (g_policy->any_runnable() && g_policy->switch_at(point)) {
    yield_preempted(point);  // its switch_to ends the segment and starts the next
  } else {
    step_segment_switch(current());  // it runs on from here: a new segment (step.cc)
  }
}

}  // namespace ptshim
