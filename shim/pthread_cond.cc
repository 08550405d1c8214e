#include <errno.h>
#include <string.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
[[gnu::noinline]] void check_reinit(pthread_cond_t* cond, uintptr_t site) {
  ShimEntry entry("pthread_cond_init");
  note_call(entry, "pthread_cond_init", site);
  if (cond_is_live(to_cond(cond))) misuse_reinit_live(cond, LockKind::kCond);
}

int clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex, clockid_t clock,
              const timespec* abstime, const char* function, uintptr_t site) {
  ShimEntry entry(function);
  note_call(entry, function, site);
  CancellationPoint cancellation_point;
  if (!clock_is_waitable(clock)) return EINVAL;
  uint64_t deadline;
  if (int bad = deadline_from_abstime(clock, abstime, &deadline)) return bad;
  return cond_wait(to_cond(cond), to_mutex(mutex), deadline);
}
}  // namespace

PTSHIM_EXPORT int pthread_cond_init(pthread_cond_t* cond, const pthread_condattr_t* attr) {
  if (__builtin_expect(to_cond(cond)->waiters.head != nullptr, 0)) {
    check_reinit(cond, PTSHIM_CALLER());
  }
  memset(cond, 0, sizeof *cond);
  if (attr != nullptr) {
    to_cond(cond)->clock = attr_bits(attr) >> 1;
    // The shared layout (core/sync/sync.h): its mark keeps the fast paths off.
    if ((attr_bits(attr) & kCondAttrPshared) != 0) {
      reinterpret_cast<SharedCond*>(cond)->mark = kSharedMark;
    }
  }
  return 0;
}

PTSHIM_EXPORT int pthread_cond_destroy(pthread_cond_t* cond) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return cond_destroy(to_cond(cond));
}

PTSHIM_EXPORT int pthread_cond_wait(pthread_cond_t* cond, pthread_mutex_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  CancellationPoint cancellation_point;
  return cond_wait(to_cond(cond), to_mutex(mutex), 0);
}

PTSHIM_EXPORT int pthread_cond_clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex,
                                         clockid_t clock, const timespec* abstime) {
  return clockwait(cond, mutex, clock, abstime, __func__, PTSHIM_CALLER());
}

PTSHIM_EXPORT int pthread_cond_timedwait(pthread_cond_t* cond, pthread_mutex_t* mutex,
                                         const timespec* abstime) {
  return clockwait(cond, mutex, to_cond(cond)->clock, abstime, __func__, PTSHIM_CALLER());
}

PTSHIM_EXPORT int pthread_cond_signal(pthread_cond_t* cond) {
  if (fast_path_allowed() && to_cond(cond)->waiters.head == nullptr) return fast_path_done(0);
  ShimEntry entry(__func__);
  cond_signal(to_cond(cond));
  return 0;
}

PTSHIM_EXPORT int pthread_cond_broadcast(pthread_cond_t* cond) {
  if (fast_path_allowed() && to_cond(cond)->waiters.head == nullptr) return fast_path_done(0);
  ShimEntry entry(__func__);
  cond_broadcast(to_cond(cond));
  return 0;
}
