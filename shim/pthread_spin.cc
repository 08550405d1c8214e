#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

static_assert(sizeof(pthread_spinlock_t) == sizeof(int));

PTSHIM_EXPORT int pthread_spin_init(pthread_spinlock_t* lock, int) {
  *const_cast<int*>(lock) = 0;
  return 0;
}

PTSHIM_EXPORT int pthread_spin_destroy(pthread_spinlock_t*) { return 0; }

PTSHIM_EXPORT int pthread_spin_lock(pthread_spinlock_t* lock) {
  ShimEntry entry(__func__);
  spin_lock(const_cast<int*>(lock));
  return 0;
}

PTSHIM_EXPORT int pthread_spin_trylock(pthread_spinlock_t* lock) {
  ShimEntry entry(__func__);
  if (*lock != 0) return EBUSY;
  *const_cast<int*>(lock) = 1;
  return 0;
}

PTSHIM_EXPORT int pthread_spin_unlock(pthread_spinlock_t* lock) {
  ShimEntry entry(__func__);
  spin_unlock(const_cast<int*>(lock));
  return 0;
}
