// pthread_getattr_np: what runtimes read their stack bounds from. It
// describes the user thread's real stack (for the original thread, the
// process stack down to its RLIMIT_STACK floor, as glibc reports it).
#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_getattr_np(pthread_t thread, pthread_attr_t* attr) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t)) return ESRCH;
  ThreadAttr* a = to_attr(attr);
  attr_set_defaults(a);
  a->set(ThreadAttr::kDetached, t->detached);
  a->set(ThreadAttr::kUserStack, true);
  if (t->is_main) {
    uintptr_t lo, hi;
    main_stack_bounds(&lo, &hi);
    a->stack_top = reinterpret_cast<void*>(hi);
    a->stack_size = hi - lo;
    a->guard_size = 0;
  } else {
    a->stack_top = static_cast<char*>(t->stack_lo) + t->stack_size;
    a->stack_size = t->stack_size;
    a->guard_size = t->guard_size;
  }
  a->sched_policy = t->sched_policy;
  a->sched_priority = t->sched_priority;
  return 0;
}
