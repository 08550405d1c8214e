// Process-shared reader-writer locks: one futex word holds kRwWriterBit or
// the number of readers; the writer's process tid and user thread are kept
// for EDEADLK. Waiters count themselves and park on the word; every release
// that leaves the lock free to someone wakes all of them (of every process),
// and they try again: no grant is handed over, since a waiter in another
// process cannot be named. Prefer-writer-nonrecursive keeps new readers out
// while a writer waits, as the private lock does.
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>

#include "core/io/io.h"
#include "core/sync/sync.h"

namespace ptshim {

namespace {
SharedRwLock* as_shared(RwLock* l) { return reinterpret_cast<SharedRwLock*>(l); }
uint32_t holder_of(const Thread* t) { return kHolderMark | static_cast<uint32_t>(t->number); }

bool written_by_caller(const SharedRwLock* l) {
  return (__atomic_load_n(&l->word, __ATOMIC_ACQUIRE) & kRwWriterBit) != 0 &&
         l->writer_tid == process_tid() && l->writer_holder == holder_of(current());
}

// Parks while the word holds `seen`, counted in `waiting`. kTimedOut, or
// anything else (woken, a changed word, a signal's handler): try again.
WakeReason park(SharedRwLock* l, uint32_t* waiting, uint32_t seen, uint64_t deadline_ns) {
  __atomic_add_fetch(waiting, 1, __ATOMIC_ACQ_REL);
  WakeReason reason = WakeReason::kWoken;
  WaitKind kind = waiting == &l->writers_waiting ? WaitKind::kRwWrite : WaitKind::kRwRead;
  if (__atomic_load_n(&l->word, __ATOMIC_ACQUIRE) == seen) {
    reason = futex_wait_as(kind, &l->word, seen, FUTEX_BITSET_MATCH_ANY, deadline_ns);
  }
  __atomic_sub_fetch(waiting, 1, __ATOMIC_ACQ_REL);
  return reason;
}

void wake_waiters(SharedRwLock* l) {
  if (__atomic_load_n(&l->readers_waiting, __ATOMIC_ACQUIRE) != 0 ||
      __atomic_load_n(&l->writers_waiting, __ATOMIC_ACQUIRE) != 0) {
    shared_wake(&l->word, INT_MAX, true);
  }
}
}  // namespace

int shared_rwlock_rdlock(RwLock* lock, uint64_t deadline_ns, bool try_only) {
  SharedRwLock* l = as_shared(lock);
  if (written_by_caller(l)) return try_only ? EBUSY : EDEADLK;
  for (;;) {
    uint32_t w = __atomic_load_n(&l->word, __ATOMIC_ACQUIRE);
    bool writer_first = l->kind == kRwPreferWriterNonrecursive &&
                        __atomic_load_n(&l->writers_waiting, __ATOMIC_ACQUIRE) != 0;
    if ((w & kRwWriterBit) == 0 && !writer_first) {
      if (w == kRwWriterBit - 1) return EAGAIN;
      if (__atomic_compare_exchange_n(&l->word, &w, w + 1, false, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED)) {
        return 0;
      }
      continue;
    }
    if (try_only) return EBUSY;
    if (park(l, &l->readers_waiting, w, deadline_ns) == WakeReason::kTimedOut) return ETIMEDOUT;
  }
}

int shared_rwlock_wrlock(RwLock* lock, uint64_t deadline_ns, bool try_only) {
  SharedRwLock* l = as_shared(lock);
  if (written_by_caller(l)) return try_only ? EBUSY : EDEADLK;
  for (;;) {
    uint32_t w = 0;
    if (__atomic_compare_exchange_n(&l->word, &w, kRwWriterBit, false, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED)) {
      l->writer_tid = process_tid();
      l->writer_holder = holder_of(current());
      return 0;
    }
    if (try_only) return EBUSY;
    WakeReason reason = park(l, &l->writers_waiting, w, deadline_ns);
    if (reason == WakeReason::kTimedOut) {
      wake_waiters(l);  // readers held back by this writer may go now
      return ETIMEDOUT;
    }
  }
}

int shared_rwlock_unlock(RwLock* lock) {
  SharedRwLock* l = as_shared(lock);
  uint32_t w = __atomic_load_n(&l->word, __ATOMIC_ACQUIRE);
  if ((w & kRwWriterBit) != 0) {
    if (!written_by_caller(l)) return EPERM;
    l->writer_tid = 0;
    l->writer_holder = 0;
    __atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
    wake_waiters(l);
    return 0;
  }
  for (;;) {
    if (w == 0) return EPERM;
    if (__atomic_compare_exchange_n(&l->word, &w, w - 1, false, __ATOMIC_RELEASE,
                                    __ATOMIC_RELAXED)) {
      break;
    }
  }
  if (w == 1) wake_waiters(l);  // the last reader: a writer may go
  return 0;
}

// Busy while held; waiters are not looked at: a process killed while it
// waited stays counted for good.
int shared_rwlock_destroy(RwLock* lock) {
  return __atomic_load_n(&as_shared(lock)->word, __ATOMIC_ACQUIRE) != 0 ? EBUSY : 0;
}

}  // namespace ptshim
