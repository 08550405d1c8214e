#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_condattr_init(pthread_condattr_t* attr) {
  attr_bits(attr) = CLOCK_REALTIME << 1;
  return 0;
}

PTSHIM_EXPORT int pthread_condattr_destroy(pthread_condattr_t*) { return 0; }

PTSHIM_EXPORT int pthread_condattr_setclock(pthread_condattr_t* attr, clockid_t clock) {
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) return EINVAL;
  attr_bits(attr) = (attr_bits(attr) & kCondAttrPshared) | (clock << 1);
  return 0;
}

PTSHIM_EXPORT int pthread_condattr_getclock(const pthread_condattr_t* attr, clockid_t* clock) {
  *clock = attr_bits(attr) >> 1;
  return 0;
}

PTSHIM_EXPORT int pthread_condattr_setpshared(pthread_condattr_t* attr, int pshared) {
  if (pshared != PTHREAD_PROCESS_PRIVATE && pshared != PTHREAD_PROCESS_SHARED) return EINVAL;
  attr_bits(attr) =
      (attr_bits(attr) & ~kCondAttrPshared) | (pshared == PTHREAD_PROCESS_SHARED ? 1 : 0);
  return 0;
}

PTSHIM_EXPORT int pthread_condattr_getpshared(const pthread_condattr_t* attr, int* pshared) {
  *pshared =
      (attr_bits(attr) & kCondAttrPshared) != 0 ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE;
  return 0;
}
