// pthread_exit and cancellation, the way glibc does them: a forced unwind
// (_Unwind_ForcedUnwind) from the exiting thread's current frame to the end
// of its stack. The unwinder runs the C++ destructors and catch (...)
// cleanups of every frame; the stop function below runs the C cleanup
// handlers (pthread_cleanup_push without exceptions: a sigsetjmp buffer
// registered with __pthread_register_cancel) by longjmp'ing into each one as
// the unwind passes its frame; the handler code then calls
// __pthread_unwind_next, which unwinds on from there. At the end of the
// stack the thread exits: thread_local and key destructors, then the switch
// away for good.
//
// A deferred request is acted on at the cancellation points (every shim
// function with a CancellationPoint: the waits, the I/O calls, and thin
// interpositions of glibc's other points such as open, close and fsync),
// and wakes a thread blocked in one. An asynchronous one is acted on also
// by the tick that finds the thread in safe code (core/sched/preempt.cc,
// cancel_from_tick), which unwinds from inside its handler.
//
// Everything here runs outside the core: the unwinder is libgcc's (or
// libunwind's) and calls program code.
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <string.h>
#include <sys/syscall.h>
#include <unwind.h>

#include "core/thread/thread.h"

namespace ptshim {

namespace {
// glibc's __pthread_unwind_buf_t: the jmp_buf, then __pad[4], which the
// shim uses as glibc does for its private links.
enum PadSlot { kPrevBuffer = 0, kOldCleanupAtPush = 1, kSavedCancelType = 2 };

struct OldCleanup {  // struct _pthread_cleanup_buffer (the pre-2.3.3 ABI)
  void (*routine)(void*);
  void* arg;
  int cancel_type;
  OldCleanup* prev;
};

constexpr _Unwind_Exception_Class kExceptionClass = 0x5054534843414e43;  // "PTSHCANC"

__pthread_unwind_buf_t* as_buffer(void* p) { return static_cast<__pthread_unwind_buf_t*>(p); }

uintptr_t stack_top(const Thread* t) {
  if (t->is_main) {
    uintptr_t lo, hi;
    main_stack_bounds(&lo, &hi);
    return hi;
  }
  return reinterpret_cast<uintptr_t>(t->stack_lo) + t->stack_size;
}

// Addresses compared relative to the stack's top, as glibc does, so the
// comparison holds wherever the stack lies. True if `frame` is at or above
// (outside) `other`.
bool frame_left(uintptr_t frame, uintptr_t other, uintptr_t top) {
  return frame - top >= other - top;
}

[[noreturn]] void jump_into(__pthread_unwind_buf_t* buffer) {
  longjmp(reinterpret_cast<__jmp_buf_tag*>(buffer->__cancel_jmp_buf), 1);
}

void run_old_cleanups(Thread* self, OldCleanup* stop_at, bool all, uintptr_t cfa, uintptr_t top) {
  auto* cur = static_cast<OldCleanup*>(self->cleanup_old);
  while (cur != nullptr && cur != stop_at &&
         (all || frame_left(cfa, reinterpret_cast<uintptr_t>(cur), top))) {
    OldCleanup* next = cur->prev;
    cur->routine(cur->arg);
    cur = next;
  }
  self->cleanup_old = cur;
}

[[noreturn]] void finish() {
  Thread* self = current();
  thread_exit(self->exit_value);
}

_Unwind_Reason_Code unwind_stop(int, _Unwind_Action actions, _Unwind_Exception_Class,
                                _Unwind_Exception*, _Unwind_Context* context, void* param) {
  Thread* self = current();
  __pthread_unwind_buf_t* buffer = as_buffer(param);
  uintptr_t top = stack_top(self);
  auto cfa = static_cast<uintptr_t>(_Unwind_GetCFA(context));
  bool at_end = (actions & _UA_END_OF_STACK) != 0;
  bool reached_buffer =
      buffer != nullptr &&
      !(arch::jmpbuf_stack_pointer(buffer->__cancel_jmp_buf[0].__cancel_jmp_buf) - top < cfa - top);
  auto* old_stop =
      buffer != nullptr ? static_cast<OldCleanup*>(buffer->__pad[kOldCleanupAtPush]) : nullptr;
  run_old_cleanups(self, old_stop, at_end || reached_buffer, cfa, top);
  if (reached_buffer) {
    self->cleanup_jmp_bufs = buffer->__pad[kPrevBuffer];
    jump_into(buffer);
  }
  if (at_end) finish();
  return _URC_NO_REASON;
}

void unwind_not_rethrown(_Unwind_Reason_Code, _Unwind_Exception*) {
  fatal(
      "ptshim: a thread's pthread_exit or cancellation was caught and not rethrown "
      "(catch (...) must rethrow abi::__forced_unwind)");
}

// Unwinds from here up to `buffer` (the next C cleanup handler) or, with
// none left, to the end of the stack.
[[noreturn]] void unwind_from_here(void* buffer) {
  Thread* self = current();
  auto* exc = reinterpret_cast<_Unwind_Exception*>(self->unwind_exception);
  memset(exc, 0, sizeof *exc);
  exc->exception_class = kExceptionClass;
  exc->exception_cleanup = unwind_not_rethrown;
  _Unwind_ForcedUnwind(exc, unwind_stop, buffer);
  // Only without unwind information on the way: run the rest by hand.
  if (buffer != nullptr) {
    self->cleanup_jmp_bufs = as_buffer(buffer)->__pad[kPrevBuffer];
    jump_into(as_buffer(buffer));
  }
  run_old_cleanups(self, nullptr, true, 0, 0);
  finish();
}
}  // namespace

void unwind_and_exit(void* result, uintptr_t called_at) {
  Thread* self = current();
  if (self->unwinding) finish();  // pthread_exit from a destructor or cleanup handler
  self->unwinding = true;
  self->exit_value = result;
  self->exit_called_at = called_at;
  unwind_from_here(self->cleanup_jmp_bufs);
}

void act_on_cancellation() {
  Thread* self = current();
  if (self->cancel_pending && !self->cancel_disabled && !self->unwinding) {
    unwind_and_exit(PTHREAD_CANCELED, 0);
  }
}

namespace {
// Waits an asynchronous cancellation may end: the waiter holds nothing of
// the object yet and its object needs nothing done when it leaves (not a
// barrier's arrival, not a rwlock writer, whose leaving lets the readers
// queued behind it go, nor the tick's parking of a call inside libc).
bool async_cancel_may_end(WaitKind k) {
  return k == WaitKind::kMutex || k == WaitKind::kRwRead || k == WaitKind::kSpin ||
         k == WaitKind::kOnce;
}
}  // namespace

int cancel_request(Thread* t) {
  if (!thread_is_valid(t)) return ESRCH;
  t->cancel_pending = true;
  if (!t->cancel_disabled && t->state == ThreadState::kBlocked &&
      (t->at_cancel_point || (t->cancel_async && async_cancel_may_end(t->wait_kind)))) {
    wake(t, WakeReason::kInterrupted);  // block() acts on an asynchronous one
  }
  return 0;
}

void cleanup_push(void* frame) {
  Thread* self = current();
  __pthread_unwind_buf_t* buffer = as_buffer(frame);
  buffer->__pad[kPrevBuffer] = self->cleanup_jmp_bufs;
  buffer->__pad[kOldCleanupAtPush] = self->cleanup_old;
  self->cleanup_jmp_bufs = buffer;
}

void cleanup_pop(void* frame) {
  current()->cleanup_jmp_bufs = as_buffer(frame)->__pad[kPrevBuffer];
}

void cleanup_next(void* frame) { unwind_from_here(as_buffer(frame)->__pad[kPrevBuffer]); }

namespace {
struct UnwindGuard {
  void (*on_unwind)(void*);
  void* arg;
};

void run_unwind_guard(void* guard) {
  auto* g = static_cast<UnwindGuard*>(guard);
  enter_core();
  g->on_unwind(g->arg);
  leave_core();
}
}  // namespace

// The cleanup is arch's (a landing pad with the C personality): it runs for
// the forced unwind of pthread_exit and cancellation and for a C++
// exception alike.
void call_unwind_guarded(void (*fn)(void*), void* arg, void (*on_unwind)(void*), void* unwind_arg) {
  UnwindGuard guard{on_unwind, unwind_arg};
  leave_core();
  arch::call_guarded(fn, arg, run_unwind_guard, &guard);
  enter_core();
}

void old_cleanup_push(void* frame, void (*routine)(void*), void* arg) {
  auto* buffer = static_cast<OldCleanup*>(frame);
  Thread* self = current();
  buffer->routine = routine;
  buffer->arg = arg;
  buffer->prev = static_cast<OldCleanup*>(self->cleanup_old);
  self->cleanup_old = buffer;
}

void old_cleanup_pop(void* frame, bool execute) {
  auto* buffer = static_cast<OldCleanup*>(frame);
  current()->cleanup_old = buffer->prev;
  if (execute) buffer->routine(buffer->arg);
}

}  // namespace ptshim
