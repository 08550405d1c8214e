// core/sync: the synchronization objects, laid over glibc's types, and their
// operations: mutexes, condition variables, barriers, reader-writer locks,
// semaphores, once controls, spinlocks and flockfile's per-FILE locks.
//
// Invariants (docs/design.md, "Synchronization objects"):
// - Each object has glibc's size, and all-zero is a valid unlocked or empty
//   object; glibc's __kind (mutex, offset 16) and __flags (rwlock, offset 48)
//   stay where glibc's static initialisers put them.
// - An object holds only a WaitQueue and counters: waiting is block()/wake()
//   of core/sched, so every object's waiters are ordinary blocked threads.
// - A lock released to a waiter is handed to it (rwlock, semaphore) or the
//   waiter retries once woken (mutex: `woken` keeps a second waiter from
//   being woken meanwhile).
#pragma once

#include "core/sched/sched.h"

namespace ptshim {

enum MutexType : int32_t {
  kMutexNormal = 0,
  kMutexRecursive = 1,
  kMutexErrorCheck = 2,
  kMutexAdaptive = 3
};
// glibc's __kind bits for the priority protocols; the priority-protect
// ceiling sits in the kind's top byte (glibc keeps it in __lock, which is
// part of `owner` here).
constexpr int32_t kMutexPrioInherit = 0x20;  // PTHREAD_MUTEX_PRIO_INHERIT_NP
constexpr int32_t kMutexPrioProtect = 0x40;  // PTHREAD_MUTEX_PRIO_PROTECT_NP
constexpr int32_t kMutexProtocolBits = kMutexPrioInherit | kMutexPrioProtect;
constexpr int kMutexCeilingShift = 24;
struct Mutex {
  Thread* owner;
  uint32_t depth;  // recursion depth of the owner
  uint32_t woken;  // a waiter was woken by unlock and has not retried yet
  int32_t kind;    // glibc's __kind: the type in the low bits
  uint32_t reserved;
  WaitQueue waiters;
  MutexType type() const { return static_cast<MutexType>(kind & 3); }
};
static_assert(sizeof(Mutex) == 40);
static_assert(__builtin_offsetof(Mutex, kind) == 16);

struct Cond {
  WaitQueue waiters;
  int32_t clock;  // for timedwait deadlines; 0 is CLOCK_REALTIME
  uint32_t reserved[7];
};
static_assert(sizeof(Cond) == 48);

struct Barrier {
  WaitQueue waiters;
  uint32_t count;
  uint32_t arrived;
  uint32_t generation;
  uint32_t reserved;
};
static_assert(sizeof(Barrier) == 32);

enum RwLockKind : uint32_t {
  kRwPreferReader = 0,
  kRwPreferWriter = 1,
  kRwPreferWriterNonrecursive = 2
};
struct RwLock {
  WaitQueue readers;
  WaitQueue writers;
  Thread* writer;
  uint32_t active_readers;
  uint32_t reserved;
  uint32_t kind;
  uint32_t reserved2;
};
static_assert(sizeof(RwLock) == 56);
static_assert(__builtin_offsetof(RwLock, kind) == 48);

// The value sits where glibc's sem_open puts it (the low half of the first
// word) and glibc leaves the rest zero, so named semaphores work unchanged.
struct Semaphore {
  uint32_t value;
  uint32_t glibc_nwaiters;
  int32_t glibc_private;
  int32_t reserved;
  WaitQueue waiters;
};
static_assert(sizeof(Semaphore) == 32);

// Each returns 0 or an error number. deadline_ns 0: none; try_only: EBUSY
// (EAGAIN for semaphores) instead of waiting.
int mutex_lock(Mutex* m, uint64_t deadline_ns, bool try_only);  // EDEADLK, EAGAIN, ETIMEDOUT
int mutex_unlock(Mutex* m);                                     // EPERM
int mutex_destroy(Mutex* m);                                    // EBUSY
int cond_wait(Cond* c, Mutex* m, uint64_t deadline_ns);         // ETIMEDOUT, EPERM
void cond_signal(Cond* c);
void cond_broadcast(Cond* c);
int cond_destroy(Cond* c);
// pthread_once: true when the caller must run the routine (the control is
// now running); false when it was done, or became done while it waited. The
// runner then calls once_finish, or once_abandon if it unwinds out of the
// routine (the control is as never run, and a waiter runs it).
bool once_claim(int* control);
void once_finish(int* control);
void once_abandon(int* control);
bool barrier_wait(Barrier* b);  // true for exactly one thread of each round
int rwlock_rdlock(RwLock* l, uint64_t deadline_ns, bool try_only);  // EDEADLK, EAGAIN, ETIMEDOUT
int rwlock_wrlock(RwLock* l, uint64_t deadline_ns, bool try_only);
int rwlock_unlock(RwLock* l);                                           // EPERM
int semaphore_wait(Semaphore* s, uint64_t deadline_ns, bool try_only);  // EAGAIN, ETIMEDOUT
int semaphore_post(Semaphore* s);                                       // EOVERFLOW
// Priority protocols (mutex_protocol.cc), for mutexes with kMutexProtocolBits.
int mutex_ceiling(const Mutex* m);
void mutex_set_ceiling(Mutex* m, int ceiling);  // the owner's boost follows
void mutex_wait_unowned(Mutex* m);              // until another thread unlocks it
int mutex_protocol_may_lock(const Mutex* m);    // 0, or EINVAL (above the ceiling)
void mutex_protocol_acquired(Mutex* m);         // m->owner just took it
void mutex_protocol_released(Mutex* m, Thread* former_owner);
void mutex_protocol_before_wait(Mutex* m);      // the caller is about to wait for m
void mutex_protocol_waiters_changed(Mutex* m);  // a waiter left without the mutex
// m's memory is made a mutex again (pthread_mutex_init): whatever it held
// before is no longer held.
void mutex_protocol_forget(const Mutex* m);
// The highest ceiling of the priority-protect mutexes t holds (0: none).
int mutex_protocol_highest_ceiling(const Thread* t);
// t exits: the mutexes it still holds stay locked, but are no longer listed
// (their memory may go with its stack).
void mutex_protocol_owner_exited(const Thread* t);
// t's level changed: the owners it waits behind follow (any thread).
void mutex_waiter_priority_changed(Thread* t);
void spin_lock(int* lock);
void spin_unlock(int* lock);
Mutex* file_lock_of(const void* file);  // flockfile's recursive mutex

// The uncontended lock and unlock, without the core section (the rules are
// at fast_path_allowed in core/sched/sched.h): only owner and depth change.
inline bool mutex_lock_fast(Mutex* m) {
  if (m->owner != nullptr || (m->kind & kMutexProtocolBits) != 0) return false;
  m->owner = current();
  m->depth = 1;
  return true;
}
// With waiters, only when one was woken already and will retry.
inline bool mutex_unlock_fast(Mutex* m) {
  if (m->owner != current() || m->depth != 1 || (m->waiters.head != nullptr && m->woken == 0) ||
      (m->kind & kMutexProtocolBits) != 0) {
    return false;
  }
  m->owner = nullptr;
  m->depth = 0;
  return true;
}

}  // namespace ptshim
