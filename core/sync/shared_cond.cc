// Process-shared condition variables. A waiter notes the sequence word,
// counts itself among the waiters, releases the mutex and parks while the
// word still holds what it noted; every signal and broadcast changes the word
// first, so a signal made after the release is never missed.
//
// A signal wakes one waiter: of this process if it has one, else in the
// kernel (another process's, asleep in its idle futex_waitv). This process's
// other waiters that noted the value the signal changed saw no other signal
// since they began to wait, so they are moved on to the new value
// (futex_rebase) instead of waking for the change. Waiters of another
// process that is running see the change at their next look and all wake:
// spurious wake-ups, which POSIX allows.
//
// Destroy waits, as glibc's does, until every waiter has left the wait: a
// program may destroy (and reuse the memory of) a condvar right after a
// broadcast, while the waiters it woke have not yet looked at the word; a
// waiter of another process that is about to sleep on it would otherwise
// find the word as it noted it again (a memset, a new init) and sleep on.
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>

#include "core/io/io.h"
#include "core/sync/sync.h"

namespace ptshim {

namespace {
SharedCond* as_shared(Cond* c) { return reinterpret_cast<SharedCond*>(c); }

void leave_wait(SharedCond* c) {
  if (__atomic_sub_fetch(&c->waiters, 1, __ATOMIC_ACQ_REL) == 0 &&
      __atomic_load_n(&c->destroying, __ATOMIC_ACQUIRE) != 0) {
    shared_wake(&c->waiters, INT_MAX, true);
  }
}
}  // namespace

int shared_cond_wait(Cond* cond, Mutex* m, uint64_t deadline_ns) {
  SharedCond* c = as_shared(cond);
  uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
  // Counted before the mutex is released: a signaller that takes it next
  // (in any process) must see a waiter to change the word for.
  __atomic_add_fetch(&c->waiters, 1, __ATOMIC_ACQ_REL);
  uint32_t depth;
  if (int err = mutex_release_for_wait(m, &depth)) {
    leave_wait(c);
    return err;
  }
  WakeReason reason =
      futex_wait_as(WaitKind::kCond, &c->seq, seq, FUTEX_BITSET_MATCH_ANY, deadline_ns);
  leave_wait(c);
  if (int err = mutex_reacquire_after_wait(m, depth)) return err;  // EOWNERDEAD (robust)
  return reason == WakeReason::kTimedOut ? ETIMEDOUT : 0;
}

void shared_cond_wake(Cond* cond, bool all) {
  SharedCond* c = as_shared(cond);
  if (__atomic_load_n(&c->waiters, __ATOMIC_ACQUIRE) == 0) return;
  uint32_t old = __atomic_fetch_add(&c->seq, 1, __ATOMIC_ACQ_REL);
  shared_wake(&c->seq, all ? INT_MAX : 1, true);
  if (!all) futex_rebase(&c->seq, old, old + 1);
}

// Never EBUSY (nor is glibc's). A waiter that never leaves (its process was
// killed while it waited) keeps destroy waiting for good, as with glibc.
int shared_cond_destroy(Cond* cond) {
  SharedCond* c = as_shared(cond);
  __atomic_store_n(&c->destroying, 1, __ATOMIC_RELEASE);
  for (uint32_t n; (n = __atomic_load_n(&c->waiters, __ATOMIC_ACQUIRE)) != 0;) {
    futex_wait_as(WaitKind::kCond, &c->waiters, n, FUTEX_BITSET_MATCH_ANY, 0);
  }
  return 0;
}

}  // namespace ptshim
