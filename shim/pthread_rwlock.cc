#include <errno.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {

[[gnu::noinline]] void check_reinit(pthread_rwlock_t* rwlock, uintptr_t site) {
  ShimEntry entry("pthread_rwlock_init");
  note_call(entry, "pthread_rwlock_init", site);
  if (rwlock_is_live(to_rwlock(rwlock))) misuse_reinit_live(rwlock, LockKind::kRwWrite);
}

int timed(pthread_rwlock_t* rwlock, clockid_t clock, const timespec* abstime, bool write) {
  // glibc checks the timeout before trying.
  if (!timespec_is_valid(abstime)) return EINVAL;
  return acquire_until(clock, abstime, EBUSY, [rwlock, write](uint64_t deadline, bool try_only) {
    return write ? rwlock_wrlock(to_rwlock(rwlock), deadline, try_only)
                 : rwlock_rdlock(to_rwlock(rwlock), deadline, try_only);
  });
}
}  // namespace

PTSHIM_EXPORT int pthread_rwlock_init(pthread_rwlock_t* rwlock, const pthread_rwlockattr_t* attr) {
  const RwLock* old = to_rwlock(rwlock);
  if (__builtin_expect(old->writer != nullptr || old->active_readers != 0 ||
                           old->readers.head != nullptr || old->writers.head != nullptr,
                       0)) {
    check_reinit(rwlock, PTSHIM_CALLER());
  }
  memset(rwlock, 0, sizeof *rwlock);
  if (attr != nullptr) {
    to_rwlock(rwlock)->kind = static_cast<uint32_t>(attr_bits(attr));
    // pthread_rwlockattr_t's second int is the pshared flag (glibc's layout).
    if (reinterpret_cast<const int*>(attr)[1] == PTHREAD_PROCESS_SHARED) {
      reinterpret_cast<SharedRwLock*>(rwlock)->shared = 1;
    }
  }
  if (__builtin_expect(g_lock_order, 0)) lock_order_init_from_shim(rwlock, LockKind::kRwWrite);
  return 0;
}

PTSHIM_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t* rwlock) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  lock_order_destroyed(entry.nested(), rwlock);
  RwLock* l = to_rwlock(rwlock);
  if (rwlock_is_shared(l)) return shared_rwlock_destroy(l);
  bool busy = l->writer != nullptr || l->active_readers != 0 || l->readers.head != nullptr ||
              l->writers.head != nullptr;
  return busy ? EBUSY : 0;
}

PTSHIM_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t* rwlock) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_locked(rwlock_rdlock(to_rwlock(rwlock), 0, false), entry.nested(), rwlock,
                           LockKind::kRwRead, false, false);
}

PTSHIM_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t* rwlock) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_locked(rwlock_rdlock(to_rwlock(rwlock), 0, true), entry.nested(), rwlock,
                           LockKind::kRwRead, false, true);
}

PTSHIM_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t* rwlock, clockid_t clock,
                                             const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_locked(timed(rwlock, clock, abstime, false), entry.nested(), rwlock,
                           LockKind::kRwRead, false, false);
}

PTSHIM_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t* rwlock, const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_locked(timed(rwlock, CLOCK_REALTIME, abstime, false), entry.nested(), rwlock,
                           LockKind::kRwRead, false, false);
}

PTSHIM_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t* rwlock) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_locked(rwlock_wrlock(to_rwlock(rwlock), 0, false), entry.nested(), rwlock,
                           LockKind::kRwWrite, true, false);
}

PTSHIM_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t* rwlock) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_locked(rwlock_wrlock(to_rwlock(rwlock), 0, true), entry.nested(), rwlock,
                           LockKind::kRwWrite, true, true);
}

PTSHIM_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t* rwlock, clockid_t clock,
                                             const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_locked(timed(rwlock, clock, abstime, true), entry.nested(), rwlock,
                           LockKind::kRwWrite, true, false);
}

PTSHIM_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t* rwlock, const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_locked(timed(rwlock, CLOCK_REALTIME, abstime, true), entry.nested(), rwlock,
                           LockKind::kRwWrite, true, false);
}

PTSHIM_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t* rwlock) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return lock_order_unlocked(rwlock_unlock(to_rwlock(rwlock)), entry.nested(), rwlock);
}
