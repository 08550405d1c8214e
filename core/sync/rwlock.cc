// Read-write locks. Waiting readers and writers queue separately; whoever
// releases the lock grants it to the next waiters directly (a writer, or all
// waiting readers), so a woken waiter never has to retry. glibc's kinds:
// prefer-reader (the default: new readers join active ones even while a
// writer waits) and prefer-writer-nonrecursive (new readers queue behind a
// waiting writer, so writers do not starve). glibc's plain prefer-writer kind
// behaves as prefer-reader, as in glibc. Real-time waiters go by priority
// instead, as POSIX asks under priority scheduling and glibc does not: the
// higher of the waiting readers and writers first, a writer before readers
// of its priority, and a real-time reader does not pass a waiting writer of
// its priority or higher.
#include <errno.h>

#include "core/diag/diag.h"
#include "core/sync/sync.h"

namespace ptshim {

namespace {
bool prefers_writers(const RwLock* l) { return l->kind == kRwPreferWriterNonrecursive; }

// The highest priority level among a queue's waiters (0 when empty).
int top_level(const WaitQueue* q) {
  int level = 0;
  for (const Thread* t = q->head; t != nullptr; t = t->next) {
    if (t->level > level) level = t->level;
  }
  return level;
}

// POSIX, under priority scheduling: a real-time reader does not pass a
// waiting writer of its priority or higher. (glibc does not do this; its
// kinds alone decide.)
bool writer_outranks(const RwLock* l, int level) {
  return level > 0 && l->writers.head != nullptr && top_level(&l->writers) >= level;
}

void grant_to_writer(RwLock* l) {
  Thread* w = next_waiter(&l->writers);
  if (w == nullptr) return;
  l->writer = w;
  held_push(w, l, LockKind::kRwWrite, w->call_site);
  wake(w, WakeReason::kWoken);
}

void grant_to_readers(RwLock* l) {
  while (Thread* r = wait_queue_first(&l->readers)) {
    ++l->active_readers;
    held_push(r, l, LockKind::kRwRead, r->call_site);
    wake(r, WakeReason::kWoken);
  }
}

// Hands a lock that may have become available to the waiters it is due to.
void grant(RwLock* l) {
  if (l->writer != nullptr) return;
  bool writer_waits = l->writers.head != nullptr;
  if (writer_waits && l->readers.head != nullptr) {
    // Real-time waiters take it in priority order, a writer before readers
    // of its priority (POSIX); SCHED_OTHER ones as the kind says.
    int writer_level = top_level(&l->writers), reader_level = top_level(&l->readers);
    if (writer_level > 0 || reader_level > 0) {
      if (writer_level < reader_level) {
        grant_to_readers(l);
      } else if (l->active_readers == 0) {
        grant_to_writer(l);
      }
      return;
    }
  }
  if (prefers_writers(l)) {
    if (writer_waits) {
      if (l->active_readers == 0) grant_to_writer(l);
      return;
    }
    grant_to_readers(l);
    return;
  }
  if (l->readers.head != nullptr) {
    grant_to_readers(l);
  } else if (writer_waits && l->active_readers == 0) {
    grant_to_writer(l);
  }
}
}  // namespace

// A waiter woken by anything but a grant (a signal's handler ran, or a
// cancellation request that does not apply here) left its queue without the
// lock, and tries again as a new caller would.
int rwlock_rdlock(RwLock* l, uint64_t deadline_ns, bool try_only) {
  if (rwlock_is_shared(l)) return shared_rwlock_rdlock(l, deadline_ns, try_only);
  if (l->writer == current()) return try_only ? EBUSY : EDEADLK;
  for (;;) {
    bool must_queue = l->writer != nullptr || (prefers_writers(l) && l->writers.head != nullptr) ||
                      writer_outranks(l, current()->level);
    if (!must_queue) {
      if (l->active_readers == UINT32_MAX) return EAGAIN;
      ++l->active_readers;
      held_push(current(), l, LockKind::kRwRead, current()->call_site);
      scheduling_point(SchedPoint::kUncontendedLock);
      return 0;
    }
    if (try_only) return EBUSY;
    if (g_reporting) return 0;
    if (deadline_ns == 0 && l->writer != nullptr) deadlock_check_before_block(WaitKind::kRwRead, l);
    WakeReason reason = block(&l->readers, WaitKind::kRwRead, l, deadline_ns);
    if (reason == WakeReason::kWoken) return 0;
    if (reason == WakeReason::kTimedOut) return ETIMEDOUT;
  }
}

int rwlock_wrlock(RwLock* l, uint64_t deadline_ns, bool try_only) {
  if (rwlock_is_shared(l)) return shared_rwlock_wrlock(l, deadline_ns, try_only);
  Thread* self = current();
  if (l->writer == self) return try_only ? EBUSY : EDEADLK;
  for (;;) {
    if (l->writer == nullptr && l->active_readers == 0) {
      l->writer = self;
      held_push(self, l, LockKind::kRwWrite, self->call_site);
      scheduling_point(SchedPoint::kUncontendedLock);
      return 0;
    }
    if (try_only) return EBUSY;
    if (g_reporting) return 0;
    if (deadline_ns == 0 && l->writer != nullptr)
      deadlock_check_before_block(WaitKind::kRwWrite, l);
    WakeReason reason = block(&l->writers, WaitKind::kRwWrite, l, deadline_ns);
    if (reason == WakeReason::kWoken) return 0;
    grant(l);  // readers queued behind this writer may go now
    if (reason == WakeReason::kTimedOut) return ETIMEDOUT;
  }
}

int rwlock_unlock(RwLock* l) {
  if (rwlock_is_shared(l)) return shared_rwlock_unlock(l);
  if (l->writer == current()) {
    l->writer = nullptr;
    held_pop(current(), l, LockKind::kRwWrite);
  } else if (l->active_readers > 0) {
    --l->active_readers;
    held_pop(current(), l, LockKind::kRwRead);
  } else {
    return g_reporting ? 0 : EPERM;
  }
  if (l->readers.head == nullptr && l->writers.head == nullptr) {
    scheduling_point(SchedPoint::kUncontendedUnlock);
  } else {
    grant(l);
    scheduling_point(SchedPoint::kWake);
  }
  return 0;
}

}  // namespace ptshim
