// The slice rule (preempt.cc, "SLICES"): what the slice timer's period
// becomes at a preemption. Bookkeeping only, no timer: preempt_switch
// applies the result, and the unit test (slice_test.cc) drives the rule
// through preemptions, blocks and yields without a clock.
#include "core/sched/sched.h"

namespace ptshim {

namespace {
const Thread* g_last_hungry;  // compared, never dereferenced: it may have exited
}  // namespace

uint64_t slice_after_preemption(const Thread* t, uint64_t period_ns, uint64_t timeslice_ns) {
  if (t->preempted) {  // hungry
    if (t == g_last_hungry) {
      uint64_t shortest = timeslice_ns < kShortestSliceNs ? timeslice_ns : kShortestSliceNs;
      return period_ns / 2 > shortest ? period_ns / 2 : shortest;
    }
    g_last_hungry = t;  // hungry threads take turns
    return timeslice_ns;
  }
  // The last hungry thread blocked or yielded since: its slices are back up.
  // Any other thread: one preemption says nothing.
  return t == g_last_hungry ? timeslice_ns : period_ns;
}

void slice_reset() { g_last_hungry = nullptr; }

}  // namespace ptshim
