#include <errno.h>
#include <limits.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                 void* (*start_routine)(void*), void* arg) {
  ShimEntry entry(__func__);
  ThreadAttr defaults;
  attr_set_defaults(&defaults);
  // Where it was created, for reports: the caller, and the first frame of
  // the program's own code (a std::thread's constructor, not libstdc++).
  auto created_at = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  uintptr_t site = creation_site(created_at, __builtin_frame_address(0));
  Thread* t;
  int err = thread_create(attr != nullptr ? *to_attr(attr) : defaults, start_routine, arg,
                          created_at, &t, site);
  if (err != 0) return err;
  *thread = to_pthread(t);  // before the new thread may run, as glibc's
  scheduling_point(SchedPoint::kCreate);
  return 0;
}

// The definition above by a name nobody else defines, for routing glibc's own
// pthread_create here (core/init.cc).
extern "C" __attribute__((alias("pthread_create"), visibility("hidden"), nonnull(1, 3))) int
ptshim_pthread_create(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*) noexcept;
