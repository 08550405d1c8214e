// glibc's own pthread_create, reached without the interposed symbol:
// - by a library that looks it up after the preload, with
//   dlsym(RTLD_NEXT | RTLD_DEFAULT | handle, "pthread_create") or dlvsym (jemalloc
//   does, for its background thread);
// - by glibc's internal callers, which call it directly inside libc: aio's
//   helper threads, getaddrinfo_a, mq_notify with SIGEV_THREAD.
// Each would start a kernel thread that ptshim does not run. So at start-up
// the first bytes of glibc's function become a jump to ptshim's
// pthread_create (arch::redirect_function): every way in now makes a user
// thread. Both symbol versions (GLIBC_2.2.5, GLIBC_2.34) are one function in
// glibc 2.36. The attribute glibc's callers pass is in glibc's layout, which
// is ptshim's (thread.h). Only a raw clone() remains outside; the thread it
// makes is reported when it first calls ptshim (core/init.cc).
#include <dlfcn.h>

#include "core/thread/thread.h"

namespace ptshim {

bool thread_route_glibc_create(const void* replacement) {
  void* glibc = dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.34");
  if (glibc == nullptr) glibc = dlvsym(RTLD_NEXT, "pthread_create", "GLIBC_2.2.5");
  if (glibc == nullptr || glibc == replacement) return false;
  return arch::redirect_function(glibc, replacement);
}

}  // namespace ptshim
