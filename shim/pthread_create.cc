#include <errno.h>
#include <limits.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                 void* (*start_routine)(void*), void* arg) {
  ShimEntry entry(__func__);
  Attr defaults;
  attr_set_defaults(&defaults);
  const Attr* a = attr != nullptr ? to_attr(attr) : &defaults;
  ThreadAttributes attrs{};
  attrs.detached = a->detach_state == PTHREAD_CREATE_DETACHED;
  attrs.stack_size = a->stack_size;
  attrs.guard_size = a->guard_size;
  if (a->has_user_stack) {
    attrs.user_stack_lo = a->stack_lo;
    attrs.user_stack_size = a->stack_size;
  }
  Thread* t;
  int err = thread_create(attrs, start_routine, arg, &t);
  if (err != 0) return err;
  // Where it was created, for reports: cheap (one return address).
  t->creator_number = current()->number;
  t->created_at = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  *thread = to_pthread(t);
  return 0;
}
