// Condition variables: a wait queue. The waiter releases the mutex and joins
// the queue in one step (nothing else runs in between: one kernel thread,
// inside the core), then reacquires the mutex after waking, timed out or not.
#include <errno.h>

#include "core/sync/sync.h"

namespace ptshim {

int cond_wait(Cond* c, Mutex* m, uint64_t deadline_ns) {
  Thread* self = current();
  if (m->owner != self && m->type() != kMutexNormal && m->type() != kMutexAdaptive) return EPERM;
  uint32_t depth = m->depth;  // a recursive mutex is released entirely, then restored
  if (m->type() == kMutexRecursive) m->depth = 1;
  mutex_unlock(m);
  WakeReason reason = block(&c->waiters, WaitKind::kCond, c, deadline_ns);
  mutex_lock(m, 0, false);
  if (m->type() == kMutexRecursive && depth > 1) m->depth = depth;
  return reason == WakeReason::kTimedOut ? ETIMEDOUT : 0;
}

void cond_signal(Cond* c) { wake_one(&c->waiters); }

void cond_broadcast(Cond* c) { wake_all(&c->waiters); }

int cond_destroy(Cond* c) { return c->waiters.head != nullptr ? EBUSY : 0; }

}  // namespace ptshim
