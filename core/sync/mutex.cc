// Mutexes. Unlock releases the mutex and wakes one waiter, which retries
// when it runs (the unlocking thread may take the mutex again first, as with
// glibc: handing it over directly would cost a switch per lock under
// contention). A woken waiter that loses goes back to the front of the queue.
// Every private acquisition and release is listed in the owner's held locks
// (held.cc); a wait behind an owned mutex first looks for a wait-for cycle
// (core/diag).
#include <errno.h>

#include "core/diag/diag.h"
#include "core/sync/sync.h"

namespace ptshim {

namespace {
void acquired(Mutex* m, Thread* self, uintptr_t site, bool protocol) {
  m->owner = self;
  m->depth = 1;
  held_push_mutex(self, m, site);
  if (protocol) mutex_protocol_acquired(m);
}

int release(Mutex* m, Thread* self) {
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
  held_pop(former_owner, m, LockKind::kMutex);
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
}  // namespace

int mutex_lock(Mutex* m, uint64_t deadline_ns, bool try_only) {
  Thread* self = current();
  uintptr_t site = self->call_site;
  // mutex_protocol.cc; not for the shared layout, whose bytes hold no Thread*
  bool protocol = (m->kind & kMutexProtocolBits) != 0 && !mutex_is_shared(m);
  if (protocol) {
    if (int err = mutex_protocol_may_lock(m)) return err;
  }
  if (m->owner == nullptr) {
    acquired(m, self, site, protocol);
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
  if (deadline_ns == 0) deadlock_check_before_block(WaitKind::kMutex, m);
  bool retry = false;  // a woken waiter that lost goes back to the front
  for (;;) {
    if (protocol) mutex_protocol_before_wait(m);
    WakeReason reason = block(&m->waiters, WaitKind::kMutex, m, deadline_ns, retry);
    if (reason == WakeReason::kWoken) m->woken = 0;
    if (m->owner == nullptr) {
      acquired(m, self, site, protocol);
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
  if (m->owner != self && !g_reporting) misuse_unlock_not_held(m);
  return release(m, self);
}

int mutex_unlock_unchecked(Mutex* m) {
  if (__builtin_expect(mutex_is_shared(m), 0)) return shared_mutex_unlock(m);
  return release(m, current());
}

int mutex_destroy(Mutex* m) {
  if (mutex_is_shared(m)) return shared_mutex_destroy(m);
  if (m->owner != nullptr || m->waiters.head != nullptr) {
    misuse_destroy_busy(m, LockKind::kMutex);
    return EBUSY;
  }
  return 0;
}

}  // namespace ptshim
