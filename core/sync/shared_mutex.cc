// Process-shared and robust mutexes (kind & kMutexKindShared: glibc sets that
// bit for both). The lock word is the kernel's robust-futex word, so the
// kernel can hand a dead process's mutex on; nothing in the object points
// into one process.
//
// Invariants:
// - word == 0: free. Otherwise its FUTEX_TID_MASK bits are the owning
//   process's kernel tid (process_tid()) and `holder` the owning user
//   thread's number there; tid 0 with FUTEX_OWNER_DIED: the owner died and
//   the next locker gets it with EOWNERDEAD.
// - FUTEX_WAITERS is set by a thread before it parks and kept by a thread
//   that had waited when it takes the mutex (others may still wait), so an
//   unlock that clears it is the only one that needs to wake.
// - holder, depth and state are written only by the owner, while it owns.
// - A waiter parks on the word with core/io's futex park: a wake from this
//   process wakes it directly; one from another process is seen as the
//   word's change.
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>

#include "core/io/io.h"
#include "core/sync/sync.h"

namespace ptshim {

namespace {
uint32_t holder_of(const Thread* t) { return kHolderMark | static_cast<uint32_t>(t->number); }

bool is_robust(const SharedMutex* m) { return (m->kind & kMutexKindRobust) != 0; }

bool held_by_caller(const SharedMutex* m) {
  uint32_t w = __atomic_load_n(&m->word, __ATOMIC_ACQUIRE);
  return (w & FUTEX_TID_MASK) == process_tid() && m->holder == holder_of(current());
}

// The word is free (tid 0): takes it for the caller. `keep` holds the bits
// the new word must keep (FUTEX_WAITERS after a wait).
bool take(SharedMutex* m, uint32_t seen, uint32_t keep) {
  uint32_t want = process_tid() | (seen & FUTEX_WAITERS) | keep;
  if (!__atomic_compare_exchange_n(&m->word, &seen, want, false, __ATOMIC_ACQUIRE,
                                   __ATOMIC_RELAXED)) {
    return false;
  }
  m->holder = holder_of(current());
  m->depth = 1;
  return true;
}

void release(SharedMutex* m) {
  m->holder = kHolderMark;
  m->depth = 0;
  bool robust = is_robust(m);
  if (robust) {
    robust_set_pending(m);
    robust_unlink(m);
  }
  uint32_t old = __atomic_exchange_n(&m->word, 0, __ATOMIC_RELEASE);
  if (robust) robust_set_pending(nullptr);
  if ((old & FUTEX_WAITERS) != 0) shared_wake(&m->word, 1, m->process_shared != 0);
}
}  // namespace

void shared_wake(uint32_t* word, int count, bool process_shared) {
  int op = FUTEX_WAKE | (process_shared ? 0 : FUTEX_PRIVATE_FLAG);
  futex_call(word, op, static_cast<uint32_t>(count), nullptr, nullptr, 0);
}

void shared_mutex_init(Mutex* mutex, bool process_shared) {
  SharedMutex* m = as_shared(mutex);
  m->holder = kHolderMark;
  m->process_shared = process_shared ? 1 : 0;
}

int shared_mutex_lock(Mutex* mutex, uint64_t deadline_ns, bool try_only) {
  SharedMutex* m = as_shared(mutex);
  bool robust = is_robust(m);
  uint32_t keep = 0;  // FUTEX_WAITERS once this thread has waited
  for (;;) {
    uint32_t w = __atomic_load_n(&m->word, __ATOMIC_ACQUIRE);
    if ((w & FUTEX_TID_MASK) == 0) {
      if (robust) robust_set_pending(m);
      if (!take(m, w, keep)) continue;
      if (!robust) return 0;
      robust_link(m);
      robust_set_pending(nullptr);
      if ((w & FUTEX_OWNER_DIED) != 0) {
        m->state = kInconsistent;
        return EOWNERDEAD;
      }
      if (m->state == kNotRecoverable) {
        release(m);
        return ENOTRECOVERABLE;
      }
      return 0;
    }
    if ((w & FUTEX_TID_MASK) == process_tid() && m->holder == holder_of(current())) {
      int type = m->kind & 3;
      if (int result = mutex_relock_by_owner(type, &m->depth, try_only); result >= 0) return result;
    }
    if (try_only) return EBUSY;
    if ((w & FUTEX_WAITERS) == 0 &&
        !__atomic_compare_exchange_n(&m->word, &w, w | FUTEX_WAITERS, false, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED)) {
      continue;
    }
    keep = FUTEX_WAITERS;
    // Woken, or the word changed, or a signal's handler ran: look again.
    // A private robust mutex's word is this process's alone: waits on it can
    // make a deadlock, which is reported.
    if (futex_wait(&m->word, w | FUTEX_WAITERS, FUTEX_BITSET_MATCH_ANY, deadline_ns,
                   m->process_shared == 0) == WakeReason::kTimedOut) {
      return ETIMEDOUT;
    }
  }
}

// As glibc: a robust mutex, a recursive or an error-checking one must be held
// by the caller (EPERM); a plain one is released by whoever unlocks it.
int shared_mutex_unlock(Mutex* mutex) {
  SharedMutex* m = as_shared(mutex);
  if (!held_by_caller(m)) {
    if (is_robust(m) || (m->kind & 3) == kMutexRecursive || (m->kind & 3) == kMutexErrorCheck) {
      return EPERM;
    }
    if (__atomic_load_n(&m->word, __ATOMIC_RELAXED) == 0) return 0;
  } else if ((m->kind & 3) == kMutexRecursive && m->depth > 1) {
    --m->depth;
    // Still held, but glibc tells an inconsistent one's owner at once.
    return is_robust(m) && m->state == kInconsistent ? ENOTRECOVERABLE : 0;
  }
  // Unlocked without pthread_mutex_consistent: nobody can ever use it again.
  if (is_robust(m) && m->state == kInconsistent) m->state = kNotRecoverable;
  release(m);
  return 0;
}

// glibc never reports a robust mutex busy.
int shared_mutex_destroy(Mutex* mutex) {
  SharedMutex* m = as_shared(mutex);
  if (is_robust(m)) return 0;
  return (__atomic_load_n(&m->word, __ATOMIC_RELAXED) & FUTEX_TID_MASK) != 0 ? EBUSY : 0;
}

// As glibc: any thread may make it consistent, as long as the mutex is
// robust and its owner died since it was last consistent.
int mutex_consistent(Mutex* mutex) {
  if ((mutex->kind & kMutexKindRobust) == 0) return EINVAL;
  SharedMutex* m = as_shared(mutex);
  if (m->state != kInconsistent) return EINVAL;
  m->state = kConsistent;
  return 0;
}

int mutex_release_for_wait(Mutex* m, uint32_t* depth) {
  if (mutex_is_shared(m)) {
    SharedMutex* s = as_shared(m);
    if (!held_by_caller(s)) {
      if (is_robust(s) || (s->kind & 3) != kMutexNormal) return EPERM;
      *depth = 1;
      return shared_mutex_unlock(m);
    }
    *depth = s->depth;
    s->depth = 1;
    return shared_mutex_unlock(m);
  }
  if (m->owner != current() && m->type() != kMutexNormal && m->type() != kMutexAdaptive) {
    return EPERM;
  }
  *depth = m->depth;  // a recursive mutex is released entirely, then restored
  if (m->type() == kMutexRecursive) m->depth = 1;
  NoSchedulingPoint one_step;  // the release and the wait are one step
  mutex_unlock_unchecked(m);
  return 0;
}

int mutex_reacquire_after_wait(Mutex* m, uint32_t depth) {
  int err = mutex_lock(m, 0, false);
  if (err != 0 && err != EOWNERDEAD) return err;
  if (m->type() == kMutexRecursive && depth > 1) {
    if (mutex_is_shared(m)) {
      as_shared(m)->depth = depth;
    } else {
      m->depth = depth;
    }
  }
  return err;
}

}  // namespace ptshim
