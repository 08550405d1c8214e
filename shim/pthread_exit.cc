#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT __attribute__((noreturn)) void pthread_exit(void* retval) {
  ShimEntry entry(__func__);
  thread_exit(retval);
}
