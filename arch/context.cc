// The switch-kind dispatch and the thread pointer, common to both kinds.
#include "arch/context.h"

#include "arch/context_kinds.h"
#include "arch/thread_pointer_x86_64.h"

namespace ptshim::arch {

SwitchKind g_context_kind = SwitchKind::kFast;
const char kThreadPointerRegister[] = "fs_base";

void context_select(SwitchKind kind) { g_context_kind = kind; }
SwitchKind context_kind() { return g_context_kind; }

void context_init(Context* ctx, void* stack_lo, std::size_t stack_size, void (*entry)()) {
  if (g_context_kind == SwitchKind::kFast) {
    fast_context_init(ctx, stack_lo, stack_size, entry);
  } else {
    ucontext_init(ctx, stack_lo, stack_size, entry);
  }
}

void context_switch(Context* from, Context* to) {
  // Installed first: what runs between here and the stack switch is this
  // file and the switch itself, which touch no thread-local data.
  if (to->thread_pointer != from->thread_pointer && to->thread_pointer != nullptr) {
    set_thread_pointer(to->thread_pointer);
  }
  if (g_context_kind == SwitchKind::kFast) {
    fast_context_switch(from, to);
  } else {
    ucontext_switch(from, to);
  }
}

bool context_restored_signal_mask(const Context* ctx, uint64_t* mask) {
  return g_context_kind == SwitchKind::kUcontext && ucontext_restored_signal_mask(ctx, mask);
}

bool context_for_unwind(const Context* ctx, void* unw_context, std::size_t size) {
  return g_context_kind == SwitchKind::kFast ? fast_context_for_unwind(ctx, unw_context, size)
                                             : ucontext_for_unwind(ctx, unw_context, size);
}

}  // namespace ptshim::arch
