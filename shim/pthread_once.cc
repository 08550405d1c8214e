#include "shim/shim.h"

using namespace ptshim;

static_assert(sizeof(pthread_once_t) == sizeof(int));

PTSHIM_EXPORT int pthread_once(pthread_once_t* once_control, void (*init_routine)()) {
  ShimEntry entry(__func__);
  once_call(once_control, init_routine);
  return 0;
}
