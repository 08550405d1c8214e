#include <errno.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_barrier_init(pthread_barrier_t* barrier,
                                       const pthread_barrierattr_t* attr, unsigned count) {
  if (count == 0) return EINVAL;
  memset(barrier, 0, sizeof *barrier);
  to_barrier(barrier)->count = count;
  if (attr != nullptr && attr_bits(attr) == PTHREAD_PROCESS_SHARED) {
    reinterpret_cast<SharedBarrier*>(barrier)->shared = 1;
  }
  return 0;
}

PTSHIM_EXPORT int pthread_barrier_destroy(pthread_barrier_t* barrier) {
  ShimEntry entry(__func__);
  Barrier* b = to_barrier(barrier);
  if (barrier_is_shared(b)) return shared_barrier_destroy(b);
  return b->waiters.head != nullptr || b->arrived != 0 ? EBUSY : 0;
}

PTSHIM_EXPORT int pthread_barrier_wait(pthread_barrier_t* barrier) {
  ShimEntry entry(__func__);
  return barrier_wait(to_barrier(barrier)) ? PTHREAD_BARRIER_SERIAL_THREAD : 0;
}

PTSHIM_EXPORT int pthread_barrierattr_init(pthread_barrierattr_t* attr) {
  attr_bits(attr) = PTHREAD_PROCESS_PRIVATE;
  return 0;
}

PTSHIM_EXPORT int pthread_barrierattr_destroy(pthread_barrierattr_t*) { return 0; }

PTSHIM_EXPORT int pthread_barrierattr_setpshared(pthread_barrierattr_t* attr, int pshared) {
  if (pshared != PTHREAD_PROCESS_PRIVATE && pshared != PTHREAD_PROCESS_SHARED) return EINVAL;
  attr_bits(attr) = pshared;
  return 0;
}

PTSHIM_EXPORT int pthread_barrierattr_getpshared(const pthread_barrierattr_t* attr, int* pshared) {
  *pshared = attr_bits(attr);
  return 0;
}
