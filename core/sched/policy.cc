// The policy in force, chosen once at start-up, before a second thread
// exists (a policy's run queue is never handed over to another).
#include "core/sched/sched.h"

namespace ptshim {

const SchedPolicy* g_policy = &kFifoPolicy;
bool g_policy_sees_every_point = false;

void sched_select_policy(const SchedPolicy* policy) {
  g_policy = policy;
  g_policy_sees_every_point = policy->sees_every_point;
}

void scheduling_point_slow(SchedPoint point) {
  if (g_policy->any_runnable() && g_policy->switch_at(point)) {
    yield();  // its switch_to ends the segment and starts the next
  } else {
    step_segment_switch(current());  // it runs on from here: a new segment (step.cc)
  }
}

}  // namespace ptshim
