#include <errno.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
// glibc's encoding in __kind: a protocol bit, and for priority-protect a
// ceiling (the attribute's, or the lowest SCHED_FIFO priority).
void mutex_init_protocol(Mutex* m, const pthread_mutexattr_t* attr) {
  int protocol = (attr_bits(attr) & kMutexAttrProtocolMask) >> kMutexAttrProtocolShift;
  if (protocol == PTHREAD_PRIO_INHERIT) m->kind |= kMutexPrioInherit;
  if (protocol != PTHREAD_PRIO_PROTECT) return;
  int ceiling = (attr_bits(attr) >> kMutexAttrCeilingShift) & 0xff;
  m->kind |= kMutexPrioProtect | (ceiling != 0 ? ceiling : priority_fifo_min())
                                     << kMutexCeilingShift;
}

}  // namespace

namespace {
// Memory that is a locked mutex or one with waiters, about to be made a
// new one: a misuse (it may also be memory that never was a mutex, which
// mutex_is_live trusts no pointer of). Out of line: init stays two compares.
[[gnu::noinline]] void check_reinit(pthread_mutex_t* mutex, uintptr_t site) {
  ShimEntry entry("pthread_mutex_init");
  note_call(entry, "pthread_mutex_init", site);
  if (mutex_is_live(to_mutex(mutex))) misuse_reinit_live(mutex, LockKind::kMutex);
}
}  // namespace

PTSHIM_EXPORT int pthread_mutex_init(pthread_mutex_t* mutex, const pthread_mutexattr_t* attr) {
  Mutex* old = to_mutex(mutex);
  if (__builtin_expect(old->owner != nullptr || old->waiters.head != nullptr, 0)) {
    check_reinit(mutex, PTSHIM_CALLER());
  }
  if ((old->kind & kMutexProtocolBits) != 0) {
    ShimEntry entry(__func__);
    mutex_protocol_forget(to_mutex(mutex));
  }
  memset(mutex, 0, sizeof *mutex);
  if (attr != nullptr) {
    int bits = attr_bits(attr);
    Mutex* m = to_mutex(mutex);
    m->kind = bits & kMutexAttrTypeMask;
    // As glibc's __kind: robust, and pshared for robust mutexes too.
    if ((bits & kMutexAttrRobust) != 0) m->kind |= kMutexKindRobust;
    if ((bits & (kMutexAttrPshared | kMutexAttrRobust)) != 0) {
      m->kind |= kMutexKindShared;
      shared_mutex_init(m, (bits & kMutexAttrPshared) != 0);
    }
    mutex_init_protocol(m, attr);  // not applied by the shared layout (README)
  }
  if (__builtin_expect(g_lock_order, 0)) lock_order_init_from_shim(mutex, LockKind::kMutex);
  return 0;
}

PTSHIM_EXPORT int pthread_mutex_destroy(pthread_mutex_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  lock_order_destroyed(entry.nested(), mutex);
  return mutex_destroy(to_mutex(mutex));
}

namespace {
// Out of line, so the fast paths need no stack frame.
[[gnu::noinline]] int lock_slow(pthread_mutex_t* mutex, bool try_only, const char* function,
                                uintptr_t site) {
  ShimEntry entry(function);
  note_call(entry, function, site);
  return lock_order_locked(mutex_lock(to_mutex(mutex), 0, try_only), entry.nested(), mutex,
                           LockKind::kMutex, true, try_only);
}

[[gnu::noinline]] int unlock_slow(pthread_mutex_t* mutex, uintptr_t site) {
  ShimEntry entry("pthread_mutex_unlock");
  note_call(entry, "pthread_mutex_unlock", site);
  return lock_order_unlocked(mutex_unlock(to_mutex(mutex)), entry.nested(), mutex);
}

int clocklock(pthread_mutex_t* mutex, clockid_t clock, const timespec* abstime,
              const char* function, uintptr_t site) {
  ShimEntry entry(function);
  note_call(entry, function, site);
  int err = acquire_until(clock, abstime, EBUSY, [mutex](uint64_t deadline, bool try_only) {
    return mutex_lock(to_mutex(mutex), deadline, try_only);
  });
  return lock_order_locked(err, entry.nested(), mutex, LockKind::kMutex, true, false);
}
}  // namespace

PTSHIM_EXPORT int pthread_mutex_lock(pthread_mutex_t* mutex) {
  uintptr_t site = PTSHIM_CALLER();
  if (fast_path_allowed() && mutex_lock_fast(to_mutex(mutex), site)) return fast_path_done(0);
  return lock_slow(mutex, false, __func__, site);
}

PTSHIM_EXPORT int pthread_mutex_trylock(pthread_mutex_t* mutex) {
  uintptr_t site = PTSHIM_CALLER();
  if (fast_path_allowed() && mutex_lock_fast(to_mutex(mutex), site)) return fast_path_done(0);
  return lock_slow(mutex, true, __func__, site);
}

PTSHIM_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* mutex, clockid_t clock,
                                          const timespec* abstime) {
  return clocklock(mutex, clock, abstime, __func__, PTSHIM_CALLER());
}

PTSHIM_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* mutex, const timespec* abstime) {
  return clocklock(mutex, CLOCK_REALTIME, abstime, __func__, PTSHIM_CALLER());
}

PTSHIM_EXPORT int pthread_mutex_unlock(pthread_mutex_t* mutex) {
  if (fast_path_allowed() && mutex_unlock_fast(to_mutex(mutex))) return fast_path_done(0);
  return unlock_slow(mutex, PTSHIM_CALLER());
}

PTSHIM_EXPORT int pthread_mutex_consistent(pthread_mutex_t* mutex) {
  return mutex_consistent(to_mutex(mutex));
}

PTSHIM_EXPORT int pthread_mutex_getprioceiling(const pthread_mutex_t* mutex, int* ceiling) {
  const Mutex* m = reinterpret_cast<const Mutex*>(mutex);
  if ((m->kind & kMutexPrioProtect) == 0) return EINVAL;
  *ceiling = mutex_ceiling(m);
  return 0;
}

// As glibc: the ceiling changes under the mutex, waited for without the
// protocol if another thread holds it.
PTSHIM_EXPORT int pthread_mutex_setprioceiling(pthread_mutex_t* mutex, int ceiling, int* old) {
  ShimEntry entry(__func__);
  Mutex* m = to_mutex(mutex);
  if ((m->kind & kMutexPrioProtect) == 0) return EINVAL;
  if (ceiling < priority_fifo_min() || ceiling > priority_fifo_max()) return EINVAL;
  if (m->owner == current()) {
    if (m->type() == kMutexErrorCheck) return EDEADLK;
  } else {
    mutex_wait_unowned(m);
  }
  // glibc's header says `old` is never null, but glibc's own code checks.
  int* old_out = old;
  asm("" : "+r"(old_out));
  if (old_out != nullptr) *old_out = mutex_ceiling(m);
  mutex_set_ceiling(m, ceiling);
  return 0;
}
