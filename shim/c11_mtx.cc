#include <string.h>

#include "shim/c11.h"

using namespace ptshim;

PTSHIM_EXPORT int mtx_init(mtx_t* mutex, int type) {
  int base = type & ~mtx_recursive;
  if (base != mtx_plain && base != mtx_timed) return thrd_error;
  memset(mutex, 0, sizeof *mutex);
  to_mutex(mutex)->kind = (type & mtx_recursive) != 0 ? kMutexRecursive : kMutexNormal;
  if (__builtin_expect(g_lock_order, 0)) lock_order_init_from_shim(mutex, LockKind::kMutex);
  return thrd_success;
}

PTSHIM_EXPORT void mtx_destroy(mtx_t* mutex) {
  if (__builtin_expect(g_lock_order, 0)) {
    ShimEntry entry(__func__);
    lock_order_destroyed(entry.nested(), mutex);
  }
}

PTSHIM_EXPORT int mtx_lock(mtx_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return c11_result(lock_order_locked(mutex_lock(to_mutex(mutex), 0, false), entry.nested(), mutex,
                                      LockKind::kMutex, true, false));
}

PTSHIM_EXPORT int mtx_trylock(mtx_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return c11_result(lock_order_locked(mutex_lock(to_mutex(mutex), 0, true), entry.nested(), mutex,
                                      LockKind::kMutex, true, true));
}

PTSHIM_EXPORT int mtx_timedlock(mtx_t* mutex, const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  int err =
      acquire_until(CLOCK_REALTIME, abstime, EBUSY, [mutex](uint64_t deadline, bool try_only) {
        return mutex_lock(to_mutex(mutex), deadline, try_only);
      });
  return c11_result(lock_order_locked(err, entry.nested(), mutex, LockKind::kMutex, true, false));
}

PTSHIM_EXPORT int mtx_unlock(mtx_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return c11_result(lock_order_unlocked(mutex_unlock(to_mutex(mutex)), entry.nested(), mutex));
}
