#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_join(pthread_t thread, void** retval) {
  ShimEntry entry(__func__);
  return thread_join(to_thread(thread), retval);
}
