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
// - A process-shared object (and a robust mutex) has another representation
//   in the same bytes, which holds no pointer: futex words, counters and ids
//   that mean the same in every process (the Shared* layouts below). Its
//   waiters park on those words with core/io's futex park, so a wake from
//   another process is seen. Its first 8 bytes are never zero and never a
//   Thread*, so the private fast paths never take it.
#pragma once

#include <errno.h>

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
// glibc's __kind bits beside the type (pthread_mutex_init sets them as
// glibc does: a robust mutex gets the pshared bit too).
constexpr int32_t kMutexKindRobust = 16;   // PTHREAD_MUTEX_ROBUST_NORMAL_NP
constexpr int32_t kMutexKindShared = 128;  // PTHREAD_MUTEX_PSHARED_BIT
// The owner locks its mutex again: a recursive one counts (EAGAIN past its
// limit), an error-checking one refuses (EDEADLK; EBUSY for a trylock), and
// a normal one deadlocks, as POSIX says: -1, wait as any other locker would.
inline int mutex_relock_by_owner(int type, uint32_t* depth, bool try_only) {
  switch (type) {
    case kMutexRecursive:
      if (*depth == UINT32_MAX) return EAGAIN;
      ++*depth;
      return 0;
    case kMutexErrorCheck:
      return try_only ? EBUSY : EDEADLK;
    default:
      return -1;
  }
}

struct Mutex {
  Thread* owner;
  uint32_t depth;     // recursion depth of the owner
  uint32_t woken;     // a waiter was woken by unlock and has not retried yet
  int32_t kind;       // glibc's __kind: the type in the low bits
  uint32_t reserved;  // the site that first locked it (site_intern); 0: never locked
  WaitQueue waiters;
  MutexType type() const { return static_cast<MutexType>(kind & 3); }
};
static_assert(sizeof(Mutex) == 40);
static_assert(__builtin_offsetof(Mutex, kind) == 16);

// A process-shared or robust mutex (kind & kMutexKindShared). `word` is the
// kernel's robust-futex word: the owning process's kernel tid (its one
// kernel thread), FUTEX_WAITERS, FUTEX_OWNER_DIED. `holder` names the owning
// user thread within that process: kHolderMark | its number; kHolderMark
// alone when unheld (so the first 8 bytes are never zero). `robust_next`
// is what the kernel's robust list links through (robust.cc).
struct SharedMutex {
  uint32_t word;
  uint32_t holder;
  uint32_t depth;
  uint32_t state;  // robust: consistent, inconsistent (owner died), not recoverable
  int32_t kind;
  uint32_t process_shared;  // the attribute said so: wakes also go to the kernel
  void* robust_next;        // this process's robust list, while it holds the mutex
  void* robust_prev;
};
static_assert(sizeof(SharedMutex) == sizeof(Mutex));
static_assert(__builtin_offsetof(SharedMutex, kind) == __builtin_offsetof(Mutex, kind));
constexpr uint32_t kHolderMark = 0x80000000u;
enum RobustState : uint32_t { kConsistent = 0, kInconsistent = 1, kNotRecoverable = 2 };
inline bool mutex_is_shared(const Mutex* m) { return (m->kind & kMutexKindShared) != 0; }
inline SharedMutex* as_shared(Mutex* m) { return reinterpret_cast<SharedMutex*>(m); }

struct Cond {
  WaitQueue waiters;
  int32_t clock;  // for timedwait deadlines; 0 is CLOCK_REALTIME
  // [0]: the site that first waited on it (site_intern); [1..2]: the mutex
  // of its current waiters, for the misuse check (cond_waiters_mutex).
  uint32_t reserved[7];
};
static_assert(sizeof(Cond) == 48);
// A process-shared condvar: a sequence word that every signal changes, the
// number of waiters (of every process), and kSharedMark where a private
// condvar's queue head has its high half (no user pointer has that bit).
struct SharedCond {
  uint32_t seq;
  uint32_t mark;
  uint32_t waiters;     // begun to wait and not yet left
  uint32_t destroying;  // pthread_cond_destroy waits for `waiters` to reach 0
  int32_t clock;        // where Cond has it
  uint32_t unused2[7];
};
static_assert(sizeof(SharedCond) == sizeof(Cond));
constexpr uint32_t kSharedMark = 0x80000000u;
inline bool cond_is_shared(const Cond* c) {
  return reinterpret_cast<const SharedCond*>(c)->mark == kSharedMark;
}

struct Barrier {
  WaitQueue waiters;
  uint32_t count;
  uint32_t arrived;
  uint32_t generation;
  uint32_t reserved;
};
static_assert(sizeof(Barrier) == 32);
// A process-shared barrier: arrivals since initialisation (never wraps), so
// round r ends when it reaches (r + 1) * count; its low half is the futex
// word the waiters park on.
struct SharedBarrier {
  uint64_t arrivals;
  uint64_t unused;
  uint32_t count;  // where Barrier has it
  uint32_t unused2[2];
  uint32_t shared;  // 1: this layout
};
static_assert(sizeof(SharedBarrier) == sizeof(Barrier));
inline bool barrier_is_shared(const Barrier* b) { return b->reserved == 1; }

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
  uint32_t reserved;  // the site that first locked it (site_intern); 0: never locked
  uint32_t kind;
  uint32_t reserved2;
};
static_assert(sizeof(RwLock) == 56);
static_assert(__builtin_offsetof(RwLock, kind) == 48);
// A process-shared rwlock: one futex word (kRwWriterBit, or the number of
// readers), the writer's process and user thread (for EDEADLK), and how many
// wait, of every process.
struct SharedRwLock {
  uint32_t word;
  uint32_t readers_waiting;
  uint32_t writers_waiting;
  uint32_t writer_tid;
  uint32_t writer_holder;
  uint32_t unused[7];
  uint32_t kind;    // where RwLock has it
  uint32_t shared;  // 1: this layout
};
static_assert(sizeof(SharedRwLock) == sizeof(RwLock));
static_assert(__builtin_offsetof(SharedRwLock, kind) == 48);
constexpr uint32_t kRwWriterBit = 0x80000000u;
inline bool rwlock_is_shared(const RwLock* l) { return l->reserved2 == 1; }

// The value sits where glibc's sem_open puts it (the low half of the first
// word) and glibc leaves the rest zero, so named semaphores work unchanged.
struct Semaphore {
  uint32_t value;
  uint32_t glibc_nwaiters;
  int32_t glibc_private;
  int32_t reserved;  // private only: the site that first waited on it (site_intern)
  WaitQueue waiters;
};
static_assert(sizeof(Semaphore) == 32);
// glibc's `private` field: FUTEX_SHARED for sem_open's semaphores and
// sem_init(pshared != 0), FUTEX_PRIVATE (0) otherwise. glibc's values are
// backwards on purpose (lowlevellock-futex.h: LLL_SHARED is
// FUTEX_PRIVATE_FLAG, flipped before the system call), so FUTEX_SHARED is
// 128. A shared one waits on its value word with the futex park;
// glibc_nwaiters counts its waiters of every process, where glibc keeps them.
constexpr int32_t kSemaphoreShared = 128;
inline bool semaphore_is_shared(const Semaphore* s) { return s->glibc_private == kSemaphoreShared; }

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

// ---- process-shared objects and robust mutexes (shared_*.cc, robust.cc) -------------------
// Each is the operation above for its object's shared layout; the private
// functions dispatch to them. EOWNERDEAD, ENOTRECOVERABLE as glibc's.
int shared_mutex_lock(Mutex* m, uint64_t deadline_ns, bool try_only);
int shared_mutex_unlock(Mutex* m);
int shared_mutex_destroy(Mutex* m);
int mutex_consistent(Mutex* m);                         // EINVAL unless robust and inconsistent
void shared_mutex_init(Mutex* m, bool process_shared);  // after kind is set
// For a condvar wait: releases entirely (0 or EPERM) and reacquires with the
// depth it had (0, EOWNERDEAD, ENOTRECOVERABLE). Private mutexes too.
int mutex_release_for_wait(Mutex* m, uint32_t* depth);
int mutex_reacquire_after_wait(Mutex* m, uint32_t depth);
int shared_cond_wait(Cond* c, Mutex* m, uint64_t deadline_ns);
void shared_cond_wake(Cond* c, bool all);
int shared_cond_destroy(Cond* c);
bool shared_barrier_wait(Barrier* b);
int shared_barrier_destroy(Barrier* b);
int shared_rwlock_rdlock(RwLock* l, uint64_t deadline_ns, bool try_only);
int shared_rwlock_wrlock(RwLock* l, uint64_t deadline_ns, bool try_only);
int shared_rwlock_unlock(RwLock* l);
int shared_rwlock_destroy(RwLock* l);
int shared_semaphore_wait(Semaphore* s, uint64_t deadline_ns, bool try_only);
int shared_semaphore_post(Semaphore* s);
// The kernel tid of this process's one kernel thread: what a shared lock
// word holds for its owner.
uint32_t process_tid();
// Robust mutexes (robust.cc): this process's list, registered with the
// kernel (set_robust_list) so that its death marks them FUTEX_OWNER_DIED.
void robust_link(SharedMutex* m);
void robust_unlink(SharedMutex* m);
void robust_set_pending(SharedMutex* m);  // the mutex an operation is under way on, or null
// `t` exits: each robust mutex it holds goes to its next locker with
// EOWNERDEAD. Non-robust ones stay locked.
void robust_owner_exited(Thread* t);
void sync_after_fork_in_child();  // a new tid, an empty robust list
// Wakes up to `count` waiters of a shared object's futex word: this process's
// parked ones first, the rest in the kernel when other processes may wait.
void shared_wake(uint32_t* word, int count, bool process_shared);

// ---- lock sites and held locks (held.cc) ---------------------------------------------
// Every lock a thread takes of a private mutex or rwlock is listed in its
// Thread::held with the program's call site that took it (Thread::call_site,
// set by the shim entry points), and every private object remembers the
// site that first locked (or waited on) it, as an index into one table of
// distinct sites (site_intern), in bytes glibc leaves unused: Mutex and
// RwLock `reserved`, Cond reserved[0], Semaphore `reserved`. Process-shared
// objects get neither: their bytes mean the same in every process.
// Every lock kind reports and checks name (kSpin only for lock-order checking).
enum class LockKind : uint8_t { kMutex, kRwWrite, kRwRead, kCond, kSemaphore, kSpin };
inline constexpr int kLockKindCount = static_cast<int>(LockKind::kSpin) + 1;  // kSpin is last
// The reports' names of the kinds (core/diag/lock_name.cc), indexed by LockKind.
struct LockKindNames {
  const char* names[kLockKindCount];
};
extern const LockKindNames kLockKindNames;
inline constexpr int kHeldKindShift = 56;
inline LockKind held_kind(const HeldLock& h) {
  return static_cast<LockKind>(h.site_and_kind >> kHeldKindShift);
}
inline uintptr_t held_site(const HeldLock& h) {
  return h.site_and_kind & ((uintptr_t{1} << kHeldKindShift) - 1);
}
inline uint32_t held_count(const Thread* t) { return t->held_bytes / sizeof(HeldLock); }
inline HeldLock& held_entry(Thread* t, uint32_t i) { return t->held_slots[1 + i]; }
inline const HeldLock& held_entry(const Thread* t, uint32_t i) { return t->held_slots[1 + i]; }
// The entry just past the last one in use: where the fast path pushes; the
// one before it is the most recent hold, or the zero slot when none.
inline HeldLock* held_end(Thread* t, uint32_t bytes) {
  return reinterpret_cast<HeldLock*>(reinterpret_cast<char*>(&t->held_slots[1]) + bytes);
}
inline HeldLock* held_end(Thread* t) { return held_end(t, t->held_bytes); }
uint32_t site_intern(uintptr_t site);  // its index, from 1; 0 for site 0
uintptr_t site_at(uint32_t index);     // 0 for 0 or an index not in the table
// t took `object` (kRwRead: one read hold of it) at `site`; the object's
// first site is recorded if it has none (first_site_note).
void held_push(Thread* t, const void* object, LockKind kind, uintptr_t site);
// t released one hold of `object` (the most recent one of that kind): the
// top entry inline, any other out of line.
void held_pop_below_top(Thread* t, const void* object, LockKind kind);
inline void held_pop(Thread* t, const void* object, LockKind kind) {
  uint32_t bytes = t->held_bytes;
  const HeldLock& top = held_end(t, bytes)[-1];
  if (__builtin_expect(bytes != 0 && top.object == object && held_kind(top) == kind, 1)) {
    t->held_bytes = bytes - sizeof(HeldLock);
    return;
  }
  held_pop_below_top(t, object, kind);
}
// A private mutex's hold: held_push without the dispatch on the kind.
void held_push_overflow(Thread* t);
inline void held_push_mutex(Thread* t, Mutex* m, uintptr_t site) {
  if (__builtin_expect(m->reserved == 0, 0)) m->reserved = site_intern(site);
  uint32_t bytes = t->held_bytes;
  if (__builtin_expect(bytes >= kHeldMax * sizeof(HeldLock), 0)) return held_push_overflow(t);
  *held_end(t, bytes) = HeldLock{m, site};
  t->held_bytes = bytes + sizeof(HeldLock);
}
const HeldLock* held_find(const Thread* t, const void* object);  // null: not listed
// The site that first locked (waited on) a private object; 0: none known.
uintptr_t first_site_of(const void* object, LockKind kind);
// A live object, for the misuse check of its re-initialisation: locked, or
// with a waiter blocked on it, by a thread that has not exited. Reads
// memory that may never have been an object: trusts no pointer in it.
bool mutex_is_live(const Mutex* m);
bool cond_is_live(const Cond* c);
bool rwlock_is_live(const RwLock* l);
bool semaphore_is_live(const Semaphore* s);
// The mutex a private condvar's current waiters wait with (Cond reserved[1..2]).
const Mutex* cond_waiters_mutex(const Cond* c);
// For a condvar wait: releases without the misuse check (the wait made its own).
int mutex_unlock_unchecked(Mutex* m);

// The uncontended lock and unlock, without the core section (the rules are
// at fast_path_allowed in core/sched/sched.h): only owner, depth and the
// owner's held list change. A mutex never locked before takes the slow path
// once, which records its first site.
inline bool mutex_lock_fast(Mutex* m, uintptr_t site) {
  if (m->owner != nullptr || (m->kind & kMutexProtocolBits) != 0 || m->reserved == 0) return false;
  Thread* self = current();
  uint32_t bytes = self->held_bytes;
  if (bytes >= kHeldMax * sizeof(HeldLock)) return false;
  *held_end(self, bytes) = HeldLock{m, site};
  self->held_bytes = bytes + sizeof(HeldLock);
  m->owner = self;
  m->depth = 1;
  return true;
}
// With waiters, only when one was woken already and will retry; only the
// owner's most recent hold.
inline bool mutex_unlock_fast(Mutex* m) {
  Thread* self = current();
  uint32_t bytes = self->held_bytes;
  if (m->owner != self || m->depth != 1 || (m->waiters.head != nullptr && m->woken == 0) ||
      (m->kind & kMutexProtocolBits) != 0 || held_end(self, bytes)[-1].object != m) {
    return false;
  }
  self->held_bytes = bytes - sizeof(HeldLock);
  m->owner = nullptr;
  m->depth = 0;
  return true;
}

}  // namespace ptshim
