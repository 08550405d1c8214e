// Thread names, as glibc: at most 15 characters (ERANGE otherwise). They name
// threads in ptshim's reports; they are not passed to the kernel, whose one
// thread carries the process's name.
#include <errno.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_setname_np(pthread_t thread, const char* name) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t)) return ESRCH;
  size_t len = strlen(name);
  if (len >= sizeof t->name) return ERANGE;
  memcpy(t->name, name, len + 1);
  if (__builtin_expect(g_observe, 0)) trace_thread_renamed(t);
  return 0;
}

PTSHIM_EXPORT int pthread_getname_np(pthread_t thread, char* buf, size_t size) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t)) return ESRCH;
  size_t len = strlen(t->name);
  if (size < len + 1) return ERANGE;
  memcpy(buf, t->name, len + 1);
  return 0;
}
