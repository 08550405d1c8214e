#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_join(pthread_t thread, void** retval) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  CancellationPoint cancellation_point;
  return thread_join(to_thread(thread), retval);
}

PTSHIM_EXPORT int pthread_tryjoin_np(pthread_t thread, void** retval) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return thread_join(to_thread(thread), retval, 0, true);
}

PTSHIM_EXPORT int pthread_clockjoin_np(pthread_t thread, void** retval, clockid_t clock,
                                       const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  CancellationPoint cancellation_point;
  if (abstime == nullptr) return thread_join(to_thread(thread), retval);
  return acquire_until(clock, abstime, EBUSY, [thread, retval](uint64_t deadline, bool try_only) {
    return thread_join(to_thread(thread), retval, deadline, try_only);
  });
}

PTSHIM_EXPORT int pthread_timedjoin_np(pthread_t thread, void** retval, const timespec* abstime) {
  return pthread_clockjoin_np(thread, retval, CLOCK_REALTIME, abstime);
}
