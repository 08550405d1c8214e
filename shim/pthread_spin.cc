#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

static_assert(sizeof(pthread_spinlock_t) == sizeof(int));

PTSHIM_EXPORT int pthread_spin_init(pthread_spinlock_t* lock, int) {
  *const_cast<int*>(lock) = 0;
  if (__builtin_expect(g_lock_order, 0))
    lock_order_init_from_shim(const_cast<int*>(lock), LockKind::kSpin);
  return 0;
}

PTSHIM_EXPORT int pthread_spin_destroy(pthread_spinlock_t* lock) {
  if (__builtin_expect(g_lock_order, 0)) {
    ShimEntry entry(__func__);
    lock_order_destroyed(entry.nested(), const_cast<int*>(lock));
  }
  return 0;
}

PTSHIM_EXPORT int pthread_spin_lock(pthread_spinlock_t* lock) {
  ShimEntry entry(__func__);
  spin_lock(const_cast<int*>(lock));
  return lock_order_locked(0, entry.nested(), const_cast<int*>(lock), LockKind::kSpin, true, false);
}

PTSHIM_EXPORT int pthread_spin_trylock(pthread_spinlock_t* lock) {
  ShimEntry entry(__func__);
  if (*lock != 0) return EBUSY;
  *const_cast<int*>(lock) = 1;
  return lock_order_locked(0, entry.nested(), const_cast<int*>(lock), LockKind::kSpin, true, true);
}

PTSHIM_EXPORT int pthread_spin_unlock(pthread_spinlock_t* lock) {
  ShimEntry entry(__func__);
  spin_unlock(const_cast<int*>(lock));
  return lock_order_unlocked(0, entry.nested(), const_cast<int*>(lock));
}
