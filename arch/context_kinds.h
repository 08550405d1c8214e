// The two implementations behind arch/context.h; arch/context.cc picks one.
#pragma once

#include "arch/context.h"

namespace ptshim::arch {

void fast_context_init(Context* ctx, void* stack_lo, std::size_t stack_size, void (*entry)());
void fast_context_switch(Context* from, Context* to);
bool fast_context_for_unwind(const Context* ctx, void* unw_context, std::size_t size);

// `stack_size` shrinks by what the saved context takes from the stack's top.
void ucontext_init(Context* ctx, void* stack_lo, std::size_t stack_size, void (*entry)());
void ucontext_switch(Context* from, Context* to);
bool ucontext_restored_signal_mask(const Context* ctx, uint64_t* mask);
bool ucontext_for_unwind(const Context* ctx, void* unw_context, std::size_t size);

}  // namespace ptshim::arch
