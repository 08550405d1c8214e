// Priority protocols of mutexes: PTHREAD_PRIO_PROTECT (the holder runs at
// least at the mutex's ceiling) and PTHREAD_PRIO_INHERIT (the holder runs at
// least at the level of its highest waiter, along chains of such mutexes).
//
// INVARIANTS:
// - A thread's Thread::boost_level is the highest of the ceilings of the
//   priority-protect mutexes it holds and the levels of the waiters of the
//   priority-inherit mutexes it holds (0: none); every lock, unlock, wait
//   and priority change of a protocol mutex's threads recomputes it for the
//   owner concerned, and a change of a blocked waiter's level reaches the
//   owners along the chain of priority-inherit mutexes it waits behind.
// - g_held lists every protocol mutex that has an owner, whoever it is: a
//   thread's boost is found by scanning it, so a mutex needs no room for a
//   list of its own (its bytes are glibc's layout) and a thread none for the
//   mutexes it holds. Programs hold few such mutexes at once.
// - Mutexes without a protocol never come here: one test of the kind bits
//   sends a mutex here (and keeps it off the lock fast paths).
#include <errno.h>
#include <sched.h>

#include "core/sync/sync.h"

namespace ptshim {

namespace {
Mutex** g_held;
size_t g_held_count, g_held_capacity;

// Bounds a chain walk: a cycle of waiters is a deadlock, not a loop here.
constexpr int kChainLimit = 64;

int level_owed_by(const Mutex* m) {
  if ((m->kind & kMutexPrioProtect) != 0) return mutex_ceiling(m);
  int level = 0;
  for (const Thread* w = m->waiters.head; w != nullptr; w = w->next) {
    if (w->level > level) level = w->level;
  }
  return level;
}

// The mutex `t` waits for, when its waiters raise its owner.
Mutex* inheriting_mutex_waited_for(const Thread* t) {
  if (t->state != ThreadState::kBlocked || t->wait_kind != WaitKind::kMutex) return nullptr;
  auto* m = static_cast<Mutex*>(const_cast<void*>(t->wait_object));
  return (m->kind & kMutexPrioInherit) != 0 && m->owner != nullptr ? m : nullptr;
}

// Recomputes t's boost, and on along the chain t waits in.
void refresh(Thread* t) {
  for (int i = 0; t != nullptr && i < kChainLimit; ++i) {
    int boost = 0;
    for (size_t k = 0; k < g_held_count; ++k) {
      if (g_held[k]->owner != t) continue;
      int owed = level_owed_by(g_held[k]);
      if (owed > boost) boost = owed;
    }
    int before = t->level;
    priority_set_boost(t, boost);
    if (t->level == before) return;
    Mutex* next = inheriting_mutex_waited_for(t);
    t = next != nullptr ? next->owner : nullptr;
  }
}
}  // namespace

int mutex_ceiling(const Mutex* m) { return (m->kind >> kMutexCeilingShift) & 0x7f; }

int mutex_protocol_may_lock(const Mutex* m) {
  if ((m->kind & kMutexPrioProtect) == 0) return 0;
  // glibc raises the thread with sched_setscheduler(its policy, the
  // ceiling): the kernel refuses a ceiling to a thread that is not
  // real-time, and glibc refuses a thread above the ceiling.
  const Thread* self = current();
  if (self->sched_policy != SCHED_FIFO && self->sched_policy != SCHED_RR) return EINVAL;
  if (self->sched_priority > mutex_ceiling(m)) return EINVAL;
  return 0;
}

void mutex_protocol_acquired(Mutex* m) {
  if (g_held_count == g_held_capacity) {
    g_held = internal_grow(g_held, g_held_count, &g_held_capacity, 16);
  }
  g_held[g_held_count++] = m;
  refresh(m->owner);
}

void mutex_protocol_released(Mutex* m, Thread* former_owner) {
  mutex_protocol_forget(m);
  refresh(former_owner);
}

void mutex_protocol_waiters_changed(Mutex* m) {
  if ((m->kind & kMutexPrioInherit) != 0 && m->owner != nullptr) refresh(m->owner);
}

// The waiter is not on the queue yet (block() puts it there): it raises the
// owner chain by its own level directly.
void mutex_protocol_before_wait(Mutex* m) {
  if ((m->kind & kMutexPrioInherit) == 0) return;
  int level = current()->level;
  Thread* owner = m->owner;
  for (int i = 0; owner != nullptr && i < kChainLimit && owner->level < level; ++i) {
    if (owner->boost_level < level) priority_set_boost(owner, level);
    Mutex* next = inheriting_mutex_waited_for(owner);
    owner = next != nullptr ? next->owner : nullptr;
  }
}

void mutex_protocol_forget(const Mutex* m) {
  for (size_t k = 0; k < g_held_count; ++k) {
    if (g_held[k] == m) {
      g_held[k] = g_held[--g_held_count];
      return;
    }
  }
}

int mutex_protocol_highest_ceiling(const Thread* t) {
  int ceiling = 0;
  for (size_t k = 0; k < g_held_count; ++k) {
    const Mutex* m = g_held[k];
    if (m->owner == t && (m->kind & kMutexPrioProtect) != 0 && mutex_ceiling(m) > ceiling) {
      ceiling = mutex_ceiling(m);
    }
  }
  return ceiling;
}

void mutex_protocol_owner_exited(const Thread* t) {
  for (size_t k = 0; k < g_held_count;) {
    if (g_held[k]->owner == t) {
      g_held[k] = g_held[--g_held_count];
    } else {
      ++k;
    }
  }
}

void mutex_waiter_priority_changed(Thread* t) {
  if (Mutex* m = inheriting_mutex_waited_for(t)) refresh(m->owner);
}

// On one kernel thread, inside the core, nothing else runs between the
// owner's unlock and the change: waiting until no one owns the mutex is as
// good as locking it, and leaves the protocol alone (which glibc's lock
// without it does too). A wake this waiter took is passed on.
void mutex_wait_unowned(Mutex* m) {
  bool retry = false;
  while (m->owner != nullptr) {
    if (block(&m->waiters, WaitKind::kMutex, m, 0, retry) == WakeReason::kWoken) m->woken = 0;
    retry = true;
  }
  if (retry && m->waiters.head != nullptr && m->woken == 0) {
    m->woken = 1;
    wake_one(&m->waiters);
  }
}

void mutex_set_ceiling(Mutex* m, int ceiling) {
  m->kind = (m->kind & ~(0x7f << kMutexCeilingShift)) | (ceiling << kMutexCeilingShift);
  if (m->owner != nullptr) refresh(m->owner);
}

}  // namespace ptshim
