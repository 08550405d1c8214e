// The portable context switch: glibc's ucontext functions. Each switch costs a
// sigprocmask system call (swapcontext saves and restores the signal mask),
// which is also what makes switching from inside a signal handler correct.
#include "arch/context.h"

#include "arch/thread_pointer_x86_64.h"

#include <cstdlib>
#include <cstring>

namespace ptshim::arch {

void context_init(Context* ctx, void* stack_lo, std::size_t stack_size, void (*entry)()) {
  if (getcontext(&ctx->uc) != 0) abort();
  ctx->uc.uc_stack.ss_sp = stack_lo;
  ctx->uc.uc_stack.ss_size = stack_size;
  ctx->uc.uc_stack.ss_flags = 0;
  ctx->uc.uc_link = nullptr;
  makecontext(&ctx->uc, entry, 0);
}

void context_switch(Context* from, Context* to) {
  // swapcontext leaves the fs base alone; it is set first. A signal landing
  // between the two runs on the old stack with the new thread's TLS, which
  // is harmless for the shim's own handler (it saves and restores errno).
  if (to->thread_pointer != from->thread_pointer && to->thread_pointer != nullptr) {
    set_thread_pointer(to->thread_pointer);
  }
  if (swapcontext(&from->uc, &to->uc) != 0) abort();
}

bool context_for_unwind(const Context* ctx, void* unw_context, std::size_t size) {
  if (size < sizeof ctx->uc) return false;
  memcpy(unw_context, &ctx->uc, sizeof ctx->uc);  // unw_context_t is a ucontext_t here
  return true;
}

}  // namespace ptshim::arch
