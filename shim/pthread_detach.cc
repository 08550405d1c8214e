#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_detach(pthread_t thread) {
  ShimEntry entry(__func__);
  return thread_detach(to_thread(thread));
}
