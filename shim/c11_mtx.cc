#include <string.h>

#include "shim/c11.h"

using namespace ptshim;

PTSHIM_EXPORT int mtx_init(mtx_t* mutex, int type) {
  int base = type & ~mtx_recursive;
  if (base != mtx_plain && base != mtx_timed) return thrd_error;
  memset(mutex, 0, sizeof *mutex);
  to_mutex(mutex)->kind = (type & mtx_recursive) != 0 ? kMutexRecursive : kMutexNormal;
  return thrd_success;
}

PTSHIM_EXPORT void mtx_destroy(mtx_t*) {}

PTSHIM_EXPORT int mtx_lock(mtx_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return c11_result(mutex_lock(to_mutex(mutex), 0, false));
}

PTSHIM_EXPORT int mtx_trylock(mtx_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return c11_result(mutex_lock(to_mutex(mutex), 0, true));
}

PTSHIM_EXPORT int mtx_timedlock(mtx_t* mutex, const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return c11_result(
      acquire_until(CLOCK_REALTIME, abstime, EBUSY, [mutex](uint64_t deadline, bool try_only) {
        return mutex_lock(to_mutex(mutex), deadline, try_only);
      }));
}

PTSHIM_EXPORT int mtx_unlock(mtx_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return c11_result(mutex_unlock(to_mutex(mutex)));
}
