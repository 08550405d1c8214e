#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

static int& bits(pthread_mutexattr_t* attr) { return *reinterpret_cast<int*>(attr); }
static int bits(const pthread_mutexattr_t* attr) { return *reinterpret_cast<const int*>(attr); }

PTSHIM_EXPORT int pthread_mutexattr_init(pthread_mutexattr_t* attr) {
  bits(attr) = PTHREAD_MUTEX_DEFAULT;
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_destroy(pthread_mutexattr_t*) { return 0; }

PTSHIM_EXPORT int pthread_mutexattr_settype(pthread_mutexattr_t* attr, int type) {
  if (type < PTHREAD_MUTEX_NORMAL || type > PTHREAD_MUTEX_ADAPTIVE_NP) return EINVAL;
  bits(attr) = (bits(attr) & ~kMutexAttrTypeMask) | type;
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_gettype(const pthread_mutexattr_t* attr, int* type) {
  *type = bits(attr) & kMutexAttrTypeMask;
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_setpshared(pthread_mutexattr_t* attr, int pshared) {
  if (pshared != PTHREAD_PROCESS_PRIVATE && pshared != PTHREAD_PROCESS_SHARED) return EINVAL;
  bits(attr) = (bits(attr) & ~kMutexAttrPshared) |
               (pshared == PTHREAD_PROCESS_SHARED ? kMutexAttrPshared : 0);
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_getpshared(const pthread_mutexattr_t* attr, int* pshared) {
  *pshared =
      (bits(attr) & kMutexAttrPshared) != 0 ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE;
  return 0;
}
