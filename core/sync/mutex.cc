// Mutexes. Unlock releases the mutex and wakes one waiter, which retries
// when it runs (the unlocking thread may take the mutex again first, as with
// glibc: handing it over directly would cost a switch per lock under
// contention). A woken waiter that loses goes back to the front of the queue.
#include <errno.h>

#include "core/sync/sync.h"

namespace ptshim {

int mutex_lock(Mutex* m, uint64_t deadline_ns, bool try_only) {
  Thread* self = current();
  // mutex_protocol.cc; not for the shared layout, whose bytes hold no Thread*
  bool protocol = (m->kind & kMutexProtocolBits) != 0 && !mutex_is_shared(m);
  if (protocol) {
    if (int err = mutex_protocol_may_lock(m)) return err;
  }
  if (m->owner == nullptr) {
    m->owner = self;
    m->depth = 1;
    if (protocol) mutex_protocol_acquired(m);
    scheduling_point(SchedPoint::kUncontendedLock);
    return 0;
  }
  // A shared mutex's first 8 bytes are never null: its own code (shared_mutex.cc).
  if (__builtin_expect(mutex_is_shared(m), 0)) return shared_mutex_lock(m, deadline_ns, try_only);
  if (m->owner == self) {
    if (int result = mutex_relock_by_owner(m->type(), &m->depth, try_only); result >= 0) {
      return result;
    }
  }
  if (try_only) return EBUSY;
  if (g_reporting) return 0;  // its owner is suspended; a report must not wait
  bool retry = false;         // a woken waiter that lost goes back to the front
  for (;;) {
    if (protocol) mutex_protocol_before_wait(m);
    WakeReason reason = block(&m->waiters, WaitKind::kMutex, m, deadline_ns, retry);
    if (reason == WakeReason::kWoken) m->woken = 0;
    if (m->owner == nullptr) {
      m->owner = self;
      m->depth = 1;
      if (protocol) mutex_protocol_acquired(m);
      return 0;
    }
    if (protocol) mutex_protocol_waiters_changed(m);
    if (reason == WakeReason::kTimedOut) return ETIMEDOUT;
    retry = true;
  }
}

int mutex_unlock(Mutex* m) {
  if (__builtin_expect(mutex_is_shared(m), 0)) return shared_mutex_unlock(m);
  Thread* self = current();
  if (m->owner != self) {
    if (g_reporting) return 0;  // passed over by mutex_lock
    // glibc does not check ownership of normal mutexes; keep its behaviour.
    if (m->type() == kMutexRecursive || m->type() == kMutexErrorCheck) return EPERM;
    if (m->owner == nullptr) return 0;
  } else if (m->type() == kMutexRecursive && --m->depth > 0) {
    return 0;
  }
  Thread* former_owner = m->owner;
  m->owner = nullptr;
  m->depth = 0;
  if ((m->kind & kMutexProtocolBits) != 0) mutex_protocol_released(m, former_owner);
  if (m->waiters.head != nullptr && m->woken == 0) {
    m->woken = 1;
    wake_one(&m->waiters);
    scheduling_point(SchedPoint::kWake);
  } else {
    scheduling_point(SchedPoint::kUncontendedUnlock);
  }
  return 0;
}

int mutex_destroy(Mutex* m) {
  if (mutex_is_shared(m)) return shared_mutex_destroy(m);
  if (m->owner != nullptr || m->waiters.head != nullptr) return EBUSY;
  return 0;
}

}  // namespace ptshim
