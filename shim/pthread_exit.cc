#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT __attribute__((noreturn)) void pthread_exit(void* retval) {
  { ShimEntry entry(__func__); }  // the unwind runs program code: outside the core
  unwind_and_exit(retval, reinterpret_cast<uintptr_t>(__builtin_return_address(0)));
}
