// Condition variables: a wait queue. The waiter releases the mutex and joins
// the queue in one step (nothing else runs in between: one kernel thread,
// inside the core), then reacquires the mutex after waking, timed out or not.
#include <errno.h>

#include "core/sync/sync.h"

namespace ptshim {

int cond_wait(Cond* c, Mutex* m, uint64_t deadline_ns) {
  if (cond_is_shared(c)) return shared_cond_wait(c, m, deadline_ns);
  uint32_t depth;
  if (int err = mutex_release_for_wait(m, &depth)) return err;
  WakeReason reason = block(&c->waiters, WaitKind::kCond, c, deadline_ns);
  if (int err = mutex_reacquire_after_wait(m, depth)) return err;  // EOWNERDEAD (robust)
  return reason == WakeReason::kTimedOut ? ETIMEDOUT : 0;
}

void cond_signal(Cond* c) {
  if (cond_is_shared(c)) return shared_cond_wake(c, false);
  wake_one(&c->waiters);
}

void cond_broadcast(Cond* c) {
  if (cond_is_shared(c)) return shared_cond_wake(c, true);
  wake_all(&c->waiters);
}

int cond_destroy(Cond* c) {
  if (cond_is_shared(c)) return shared_cond_destroy(c);
  return c->waiters.head != nullptr ? EBUSY : 0;
}

}  // namespace ptshim
