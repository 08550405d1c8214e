#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT pthread_t pthread_self() {
  ShimEntry entry(__func__);
  return to_pthread(current());
}

PTSHIM_EXPORT int pthread_equal(pthread_t a, pthread_t b) { return a == b; }
