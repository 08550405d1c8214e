// system and aio_suspend: cancellation points (POSIX) that ptshim leaves to
// glibc. A pending request is acted on at entry; then glibc's own function
// runs, found by version (dlvsym), so nothing reaches ptshim's symbols
// again. Known: glibc's system waits for its child inside libc, holding the
// kernel thread meanwhile, and a request made by a signal handler during
// either wait is seen only at the next cancellation point.
#include <aio.h>
#include <dlfcn.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
void cancellation_point_at_entry(const char* function) {
  ShimEntry entry(function);
  if (!entry.nested()) CancellationPoint here;
}

template <typename Function>
Function glibc_function(const char* name, const char* version, const char* older_version) {
  void* f = dlvsym(RTLD_NEXT, name, version);
  if (f == nullptr) f = dlvsym(RTLD_NEXT, name, older_version);
  if (f == nullptr) fatal("ptshim: glibc's function is missing");
  return reinterpret_cast<Function>(f);
}
}  // namespace

PTSHIM_EXPORT int system(const char* command) {
  cancellation_point_at_entry(__func__);
  static auto glibc = glibc_function<int (*)(const char*)>("system", "GLIBC_2.2.5", "GLIBC_2.2.5");
  return glibc(command);
}

namespace {
using Suspend = int (*)(const struct aiocb* const[], int, const timespec*);
int suspend(const char* function, const struct aiocb* const list[], int count,
            const timespec* timeout) {
  cancellation_point_at_entry(function);
  static auto glibc = glibc_function<Suspend>("aio_suspend", "GLIBC_2.34", "GLIBC_2.2.5");
  return glibc(list, count, timeout);
}
}  // namespace

PTSHIM_EXPORT int aio_suspend(const struct aiocb* const list[], int count,
                              const timespec* timeout) {
  return suspend(__func__, list, count, timeout);
}

// The same function in glibc (its aiocb64 is the aiocb on x86-64).
PTSHIM_EXPORT int aio_suspend64(const struct aiocb64* const list[], int count,
                                const timespec* timeout) {
  static_assert(sizeof(struct aiocb64) == sizeof(struct aiocb));
  return suspend(__func__, reinterpret_cast<const struct aiocb* const*>(list), count, timeout);
}
