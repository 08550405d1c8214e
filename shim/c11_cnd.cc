#include <string.h>

#include "shim/c11.h"

using namespace ptshim;

PTSHIM_EXPORT int cnd_init(cnd_t* cond) {
  memset(cond, 0, sizeof *cond);
  return thrd_success;
}

PTSHIM_EXPORT void cnd_destroy(cnd_t*) {}

PTSHIM_EXPORT int cnd_signal(cnd_t* cond) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  cond_signal(to_cond(cond));
  return thrd_success;
}

PTSHIM_EXPORT int cnd_broadcast(cnd_t* cond) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  cond_broadcast(to_cond(cond));
  return thrd_success;
}

PTSHIM_EXPORT int cnd_wait(cnd_t* cond, mtx_t* mutex) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  return c11_result(cond_wait(to_cond(cond), to_mutex(mutex), 0));
}

PTSHIM_EXPORT int cnd_timedwait(cnd_t* cond, mtx_t* mutex, const timespec* abstime) {
  ShimEntry entry(__func__);
  note_call(entry, __func__, PTSHIM_CALLER());
  uint64_t deadline;
  if (deadline_from_abstime(CLOCK_REALTIME, abstime, &deadline) != 0) return thrd_error;
  return c11_result(cond_wait(to_cond(cond), to_mutex(mutex), deadline));
}
