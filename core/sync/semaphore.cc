// Counting semaphores. A post with waiters hands its unit straight to the
// oldest waiter instead of raising the count, so a woken waiter never has to
// retry and nobody can take the unit from under it.
#include <errno.h>
#include <limits.h>
#include <semaphore.h>

#include "core/sync/sync.h"

namespace ptshim {

int semaphore_wait(Semaphore* s, uint64_t deadline_ns, bool try_only) {
  if (semaphore_is_shared(s)) return shared_semaphore_wait(s, deadline_ns, try_only);
  if (__builtin_expect(s->reserved == 0, 0)) {
    s->reserved = static_cast<int32_t>(site_intern(current()->call_site));
  }
  if (s->value > 0) {
    --s->value;
    scheduling_point(SchedPoint::kUncontendedLock);
    return 0;
  }
  if (try_only) return EAGAIN;
  switch (block(&s->waiters, WaitKind::kSemaphore, s, deadline_ns)) {
    case WakeReason::kWoken:
      return 0;  // a post handed its unit over
    case WakeReason::kTimedOut:
      return ETIMEDOUT;
    case WakeReason::kSignaled:
      return EINTR;  // a handler ran: the caller knows whether to wait on
    case WakeReason::kInterrupted:
      break;
  }
  return ECANCELED;
}

int semaphore_post(Semaphore* s) {
  if (semaphore_is_shared(s)) return shared_semaphore_post(s);
  if (s->waiters.head != nullptr) {
    wake_one(&s->waiters);
    scheduling_point(SchedPoint::kWake);
    return 0;
  }
  if (s->value >= static_cast<uint32_t>(SEM_VALUE_MAX)) return EOVERFLOW;
  ++s->value;
  scheduling_point(SchedPoint::kUncontendedUnlock);
  return 0;
}

}  // namespace ptshim
