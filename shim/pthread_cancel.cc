// Cancellation (core/thread/cancel.cc): requests are acted on at the
// cancellation points; an asynchronous one also at the next tick in the
// thread's own code (core/sched/preempt.cc), and at once when the thread
// cancels itself or makes the type asynchronous or the state enabled.
#include <errno.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_cancel(pthread_t thread) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  int err = cancel_request(t);
  if (err == 0 && t == current() && t->cancel_async) {
    CancellationPoint act_now;
  }
  return err;
}

PTSHIM_EXPORT int pthread_setcancelstate(int state, int* old_state) {
  if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE) return EINVAL;
  ShimEntry entry(__func__);
  Thread* self = current();
  if (old_state != nullptr) {
    *old_state = self->cancel_disabled ? PTHREAD_CANCEL_DISABLE : PTHREAD_CANCEL_ENABLE;
  }
  self->cancel_disabled = state == PTHREAD_CANCEL_DISABLE;
  if (self->cancel_async) CancellationPoint act_if_pending;
  return 0;
}

PTSHIM_EXPORT int pthread_setcanceltype(int type, int* old_type) {
  if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS) return EINVAL;
  ShimEntry entry(__func__);
  Thread* self = current();
  if (old_type != nullptr) {
    *old_type = self->cancel_async ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
  }
  self->cancel_async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
  if (self->cancel_async) CancellationPoint act_if_pending;
  return 0;
}

PTSHIM_EXPORT void pthread_testcancel() {
  ShimEntry entry(__func__);
  CancellationPoint here;
}
