#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_mutexattr_init(pthread_mutexattr_t* attr) {
  attr_bits(attr) = PTHREAD_MUTEX_DEFAULT;
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_destroy(pthread_mutexattr_t*) { return 0; }

PTSHIM_EXPORT int pthread_mutexattr_settype(pthread_mutexattr_t* attr, int type) {
  if (type < PTHREAD_MUTEX_NORMAL || type > PTHREAD_MUTEX_ADAPTIVE_NP) return EINVAL;
  attr_bits(attr) = (attr_bits(attr) & ~kMutexAttrTypeMask) | type;
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_gettype(const pthread_mutexattr_t* attr, int* type) {
  *type = attr_bits(attr) & kMutexAttrTypeMask;
  return 0;
}

namespace {
// An attribute stored as one flag bit: `value` must be `on` or `off`.
int set_flag(pthread_mutexattr_t* attr, int flag, int value, int on, int off) {
  if (value != on && value != off) return EINVAL;
  attr_bits(attr) = (attr_bits(attr) & ~flag) | (value == on ? flag : 0);
  return 0;
}

int get_flag(const pthread_mutexattr_t* attr, int flag, int on, int off) {
  return (attr_bits(attr) & flag) != 0 ? on : off;
}
}  // namespace

PTSHIM_EXPORT int pthread_mutexattr_setpshared(pthread_mutexattr_t* attr, int pshared) {
  return set_flag(attr, kMutexAttrPshared, pshared, PTHREAD_PROCESS_SHARED,
                  PTHREAD_PROCESS_PRIVATE);
}

PTSHIM_EXPORT int pthread_mutexattr_getpshared(const pthread_mutexattr_t* attr, int* pshared) {
  *pshared = get_flag(attr, kMutexAttrPshared, PTHREAD_PROCESS_SHARED, PTHREAD_PROCESS_PRIVATE);
  return 0;
}

// Robust mutexes hand a dead owner's lock on with EOWNERDEAD
// (core/sync/robust.cc). The priority protocols are applied by the mutexes
// (core/sync/mutex_protocol.cc).
PTSHIM_EXPORT int pthread_mutexattr_setrobust(pthread_mutexattr_t* attr, int robust) {
  return set_flag(attr, kMutexAttrRobust, robust, PTHREAD_MUTEX_ROBUST, PTHREAD_MUTEX_STALLED);
}

PTSHIM_EXPORT int pthread_mutexattr_getrobust(const pthread_mutexattr_t* attr, int* robust) {
  *robust = get_flag(attr, kMutexAttrRobust, PTHREAD_MUTEX_ROBUST, PTHREAD_MUTEX_STALLED);
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_setprotocol(pthread_mutexattr_t* attr, int protocol) {
  if (protocol != PTHREAD_PRIO_NONE && protocol != PTHREAD_PRIO_INHERIT &&
      protocol != PTHREAD_PRIO_PROTECT) {
    return EINVAL;
  }
  attr_bits(attr) =
      (attr_bits(attr) & ~kMutexAttrProtocolMask) | (protocol << kMutexAttrProtocolShift);
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_getprotocol(const pthread_mutexattr_t* attr, int* protocol) {
  *protocol = (attr_bits(attr) & kMutexAttrProtocolMask) >> kMutexAttrProtocolShift;
  return 0;
}

// The ceiling is a SCHED_FIFO priority, as glibc checks it; 0 in the bits
// (never set) reads as the lowest.
PTSHIM_EXPORT int pthread_mutexattr_setprioceiling(pthread_mutexattr_t* attr, int ceiling) {
  if (ceiling < priority_fifo_min() || ceiling > priority_fifo_max() || ceiling > 0xff) {
    return EINVAL;
  }
  attr_bits(attr) =
      (attr_bits(attr) & ~(0xff << kMutexAttrCeilingShift)) | (ceiling << kMutexAttrCeilingShift);
  return 0;
}

PTSHIM_EXPORT int pthread_mutexattr_getprioceiling(const pthread_mutexattr_t* attr, int* ceiling) {
  *ceiling = (attr_bits(attr) >> kMutexAttrCeilingShift) & 0xff;
  if (*ceiling == 0) *ceiling = priority_fifo_min();
  return 0;
}
