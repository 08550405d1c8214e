// The entry points glibc's pthread_cleanup_push/pop macros call (C without
// exceptions), and the older _pthread_cleanup_push ABI. In C++ the macros
// use a destructor instead, which the forced unwind runs.
#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT void __pthread_register_cancel(__pthread_unwind_buf_t* buf) {
  ShimEntry entry(__func__);
  cleanup_push(buf);
}

PTSHIM_EXPORT void __pthread_unregister_cancel(__pthread_unwind_buf_t* buf) {
  ShimEntry entry(__func__);
  cleanup_pop(buf);
}

// The _defer variants switch to deferred cancellation for the region and
// restore the previous type after it (glibc keeps it in the buffer too).
PTSHIM_EXPORT void __pthread_register_cancel_defer(__pthread_unwind_buf_t* buf) {
  ShimEntry entry(__func__);
  cleanup_push(buf);
  Thread* self = current();
  buf->__pad[2] = reinterpret_cast<void*>(static_cast<uintptr_t>(self->cancel_async));
  self->cancel_async = false;
}

PTSHIM_EXPORT void __pthread_unregister_cancel_restore(__pthread_unwind_buf_t* buf) {
  ShimEntry entry(__func__);
  cleanup_pop(buf);
  current()->cancel_async = buf->__pad[2] != nullptr;
  if (current()->cancel_async) CancellationPoint act_if_pending;
}

PTSHIM_EXPORT __attribute__((noreturn)) void __pthread_unwind_next(__pthread_unwind_buf_t* buf) {
  { ShimEntry entry(__func__); }
  cleanup_next(buf);
}

PTSHIM_EXPORT void _pthread_cleanup_push(_pthread_cleanup_buffer* buffer, void (*routine)(void*),
                                         void* arg) {
  ShimEntry entry(__func__);
  old_cleanup_push(buffer, routine, arg);
}

PTSHIM_EXPORT void _pthread_cleanup_pop(_pthread_cleanup_buffer* buffer, int execute) {
  { ShimEntry entry(__func__); }  // the routine is program code
  old_cleanup_pop(buffer, execute != 0);
}
