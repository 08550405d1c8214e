// Condition variables: a wait queue. The waiter releases the mutex and joins
// the queue in one step (nothing else runs in between: one kernel thread,
// inside the core), then reacquires the mutex after waking, timed out or not.
#include <errno.h>
#include <string.h>

#include "core/diag/diag.h"
#include "core/sync/sync.h"

namespace ptshim {

namespace {
// PTSHIM_SPURIOUS_WAKEUPS=1: what POSIX allows and glibc rarely does, made
// common, from the schedule's generator: a wait may return without a
// signal (after the others had a turn), and a signal may wake every waiter.
constexpr uint64_t kSpuriousOneIn = 4;
enum Choice : uint32_t { kSpuriousWait = 21, kSpuriousBroadcast = 22 };

bool spurious_now(uint32_t kind) {
  if (!options().spurious_wakeups) return false;
  bool yes = sched_random_below(kSpuriousOneIn) == 0;
  decision_note(kind, yes);
  return yes;
}

// A process-shared or robust mutex with this private condvar.
[[gnu::noinline]] int wait_with_shared_mutex(Cond* c, Mutex* m, uint64_t deadline_ns) {
  uint32_t depth;
  if (int err = mutex_release_for_wait(m, &depth)) return err;
  WakeReason reason = block(&c->waiters, WaitKind::kCond, c, deadline_ns);
  if (int err = mutex_reacquire_after_wait(m, depth)) return err;  // EOWNERDEAD (robust)
  return reason == WakeReason::kTimedOut ? ETIMEDOUT : 0;
}

// kTesting: a seeded policy sees the points, or PTSHIM_SPURIOUS_WAKEUPS is
// on (g_sync_testing); the default path is the plain one.
// The misuse checks of a private wait (core/diag), and the mutex of the
// waiters from now on; out of line: the checks cost the wait two compares.
[[gnu::noinline]] void note_waiter_misuse(Cond* c, Mutex* m, bool held) {
  if (!held) misuse_cond_mutex_not_held(c, m);
  const Mutex* others = cond_waiters_mutex(c);
  if (c->waiters.head != nullptr && others != nullptr && others != m) {
    misuse_cond_two_mutexes(c, m, others);
  }
}

void note_waiter(Cond* c, Mutex* m, Thread* self) {
  bool held = m->owner == self;
  if (__builtin_expect(!held || (c->waiters.head != nullptr && cond_waiters_mutex(c) != m), 0)) {
    note_waiter_misuse(c, m, held);
  }
  memcpy(&c->reserved[1], &m, sizeof m);
  if (__builtin_expect(c->reserved[0] == 0, 0)) c->reserved[0] = site_intern(self->call_site);
}

template <bool kTesting>
int wait_private(Cond* c, Mutex* m, uint64_t deadline_ns) {
  Thread* self = current();
  note_waiter(c, m, self);
  if (m->owner != self && m->type() != kMutexNormal && m->type() != kMutexAdaptive) return EPERM;
  uint32_t depth = m->depth;  // a recursive mutex is released entirely, then restored
  if (m->type() == kMutexRecursive) m->depth = 1;
  if constexpr (kTesting) {
    NoSchedulingPoint one_step;  // releasing the mutex and joining the queue are one step
    mutex_unlock_unchecked(m);
  } else {
    mutex_unlock_unchecked(m);
  }
  WakeReason reason = WakeReason::kWoken;
  if (kTesting && spurious_now(kSpuriousWait)) {
    yield();
  } else {
    reason = block(&c->waiters, WaitKind::kCond, c, deadline_ns);
  }
  mutex_lock(m, 0, false);
  if (m->type() == kMutexRecursive && depth > 1) m->depth = depth;
  return reason == WakeReason::kTimedOut ? ETIMEDOUT : 0;
}

[[gnu::noinline]] void signal_testing(Cond* c) {
  if (c->waiters.head != nullptr && spurious_now(kSpuriousBroadcast)) {
    wake_all(&c->waiters);
  } else {
    wake_one(&c->waiters);
  }
  scheduling_point(SchedPoint::kWake);
}
}  // namespace

int cond_wait(Cond* c, Mutex* m, uint64_t deadline_ns) {
  if (__builtin_expect(cond_is_shared(c) | mutex_is_shared(m), 0)) {
    return cond_is_shared(c) ? shared_cond_wait(c, m, deadline_ns)
                             : wait_with_shared_mutex(c, m, deadline_ns);
  }
  if (__builtin_expect(g_sync_testing, 0)) return wait_private<true>(c, m, deadline_ns);
  return wait_private<false>(c, m, deadline_ns);
}

void cond_signal(Cond* c) {
  if (cond_is_shared(c)) return shared_cond_wake(c, false);
  if (__builtin_expect(g_sync_testing, 0)) return signal_testing(c);
  wake_one(&c->waiters);
}

void cond_broadcast(Cond* c) {
  if (cond_is_shared(c)) return shared_cond_wake(c, true);
  wake_all(&c->waiters);
  scheduling_point(SchedPoint::kWake);
}

int cond_destroy(Cond* c) {
  if (cond_is_shared(c)) return shared_cond_destroy(c);
  if (c->waiters.head == nullptr) return 0;
  misuse_destroy_busy(c, LockKind::kCond);
  return EBUSY;
}

}  // namespace ptshim
