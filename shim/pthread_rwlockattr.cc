// pthread_rwlockattr_t as glibc lays it out: the kind, then the pshared flag.
#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
struct RwLockAttr {
  int32_t kind;
  int32_t pshared;
};
static_assert(sizeof(RwLockAttr) <= sizeof(pthread_rwlockattr_t));
RwLockAttr* to_attr(pthread_rwlockattr_t* a) { return reinterpret_cast<RwLockAttr*>(a); }
const RwLockAttr* to_attr(const pthread_rwlockattr_t* a) {
  return reinterpret_cast<const RwLockAttr*>(a);
}
}  // namespace

PTSHIM_EXPORT int pthread_rwlockattr_init(pthread_rwlockattr_t* attr) {
  *to_attr(attr) = RwLockAttr{PTHREAD_RWLOCK_PREFER_READER_NP, PTHREAD_PROCESS_PRIVATE};
  return 0;
}

PTSHIM_EXPORT int pthread_rwlockattr_destroy(pthread_rwlockattr_t*) { return 0; }

PTSHIM_EXPORT int pthread_rwlockattr_setkind_np(pthread_rwlockattr_t* attr, int kind) {
  if (kind != PTHREAD_RWLOCK_PREFER_READER_NP && kind != PTHREAD_RWLOCK_PREFER_WRITER_NP &&
      kind != PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) {
    return EINVAL;
  }
  to_attr(attr)->kind = kind;
  return 0;
}

PTSHIM_EXPORT int pthread_rwlockattr_getkind_np(const pthread_rwlockattr_t* attr, int* kind) {
  *kind = to_attr(attr)->kind;
  return 0;
}

PTSHIM_EXPORT int pthread_rwlockattr_setpshared(pthread_rwlockattr_t* attr, int pshared) {
  if (pshared != PTHREAD_PROCESS_PRIVATE && pshared != PTHREAD_PROCESS_SHARED) return EINVAL;
  to_attr(attr)->pshared = pshared;
  return 0;
}

PTSHIM_EXPORT int pthread_rwlockattr_getpshared(const pthread_rwlockattr_t* attr, int* pshared) {
  *pshared = to_attr(attr)->pshared;
  return 0;
}
