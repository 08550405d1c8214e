// Barriers: the last thread to arrive starts a new round and wakes the rest.
#include "core/sync/sync.h"

namespace ptshim {

bool barrier_wait(Barrier* b) {
  if (barrier_is_shared(b)) return shared_barrier_wait(b);
  if (++b->arrived == b->count) {
    b->arrived = 0;
    ++b->generation;
    wake_all(&b->waiters);
    scheduling_point(SchedPoint::kWake);
    return true;
  }
  uint32_t round = b->generation;
  while (b->generation == round) block(&b->waiters, WaitKind::kBarrier, b, 0);
  return false;
}

}  // namespace ptshim
