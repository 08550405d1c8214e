// A saved execution context and the switch between two of them. This is the
// whole interface core/ uses; context_ucontext.cc implements it with
// getcontext/makecontext/swapcontext, and a faster switch can replace that
// file without touching core/.
//
// The switch may be called from the preemption signal handler: the context it
// saves then belongs to the handler frame, and resuming it returns from the
// handler, whose sigreturn restores everything the signal interrupted.
#pragma once

#include <ucontext.h>

#include <cstddef>

namespace ptshim::arch {

struct Context {
  ucontext_t uc;
  // The thread pointer this context runs with; null: leave it as it is
  // (all threads share one control block).
  void* thread_pointer;
};

// Prepares `ctx` so that switching to it runs entry() on the given stack
// (lowest usable address and size). The new context starts with the caller's
// signal mask, as POSIX asks of pthread_create. entry() must never return.
void context_init(Context* ctx, void* stack_lo, std::size_t stack_size, void (*entry)());

// Saves the running context in `from` and resumes `to`, installing its
// thread pointer. Returns when someone switches back to `from`.
void context_switch(Context* from, Context* to);

// Copies a saved context into a libunwind unw_context_t (`size` bytes) so a
// suspended thread can be unwound. False if this context kind cannot.
bool context_for_unwind(const Context* ctx, void* unw_context, std::size_t size);

}  // namespace ptshim::arch
