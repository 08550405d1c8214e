#include <errno.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_mutex_init(pthread_mutex_t* mutex, const pthread_mutexattr_t* attr) {
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
  }
  return 0;
}

PTSHIM_EXPORT int pthread_mutex_destroy(pthread_mutex_t* mutex) {
  ShimEntry entry(__func__);
  return mutex_destroy(to_mutex(mutex));
}

namespace {
// Out of line, so the fast paths need no stack frame.
[[gnu::noinline]] int lock_slow(pthread_mutex_t* mutex, bool try_only, const char* function) {
  ShimEntry entry(function);
  return mutex_lock(to_mutex(mutex), 0, try_only);
}

[[gnu::noinline]] int unlock_slow(pthread_mutex_t* mutex) {
  ShimEntry entry("pthread_mutex_unlock");
  return mutex_unlock(to_mutex(mutex));
}
}  // namespace

PTSHIM_EXPORT int pthread_mutex_lock(pthread_mutex_t* mutex) {
  if (fast_path_allowed() && mutex_lock_fast(to_mutex(mutex))) return fast_path_done(0);
  return lock_slow(mutex, false, __func__);
}

PTSHIM_EXPORT int pthread_mutex_trylock(pthread_mutex_t* mutex) {
  if (fast_path_allowed() && mutex_lock_fast(to_mutex(mutex))) return fast_path_done(0);
  return lock_slow(mutex, true, __func__);
}

PTSHIM_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* mutex, clockid_t clock,
                                          const timespec* abstime) {
  ShimEntry entry(__func__);
  return acquire_until(clock, abstime, EBUSY, [mutex](uint64_t deadline, bool try_only) {
    return mutex_lock(to_mutex(mutex), deadline, try_only);
  });
}

PTSHIM_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* mutex, const timespec* abstime) {
  return pthread_mutex_clocklock(mutex, CLOCK_REALTIME, abstime);
}

PTSHIM_EXPORT int pthread_mutex_unlock(pthread_mutex_t* mutex) {
  if (fast_path_allowed() && mutex_unlock_fast(to_mutex(mutex))) return fast_path_done(0);
  return unlock_slow(mutex);
}

PTSHIM_EXPORT int pthread_mutex_consistent(pthread_mutex_t* mutex) {
  return mutex_consistent(to_mutex(mutex));
}

// Only PTHREAD_PRIO_PROTECT mutexes have a ceiling; ptshim's never do.
PTSHIM_EXPORT int pthread_mutex_getprioceiling(const pthread_mutex_t*, int*) { return EINVAL; }
PTSHIM_EXPORT int pthread_mutex_setprioceiling(pthread_mutex_t*, int, int*) { return EINVAL; }
