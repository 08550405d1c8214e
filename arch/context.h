// A saved execution context and the switch between two of them. This is the
// whole interface core/ uses. Two kinds of switch sit behind it, chosen once
// at start-up (PTSHIM_SWITCH):
//   - fast (default): arch/switch_<cpu>_<abi>.S saves the callee-saved
//     registers and the floating-point control words on the thread's own
//     stack; no system call, no signal mask;
//   - ucontext: glibc's getcontext/makecontext/swapcontext, which also save
//     and restore the kernel's signal mask (one system call per switch).
// Either way the switch installs the target's thread pointer.
//
// The switch may be called from the preemption signal handler: the context it
// saves then belongs to the handler frame, and resuming it returns from the
// handler, whose sigreturn restores everything the signal interrupted.
#pragma once

#include <ucontext.h>

#include <cstddef>
#include <cstdint>

namespace ptshim::arch {

struct Context {
  void* stack_pointer;  // fast switch: where the saved frame is
  ucontext_t* uc;       // ucontext switch: the saved context (top of the stack)
  // The thread pointer this context runs with; null: leave it as it is
  // (all threads share one control block).
  void* thread_pointer;
};

enum class SwitchKind : uint8_t { kFast, kUcontext };

// Chooses the switch for the whole process; before any context is made.
void context_select(SwitchKind kind);
SwitchKind context_kind();

// Prepares `ctx` so that switching to it runs entry() on the given stack
// (lowest usable address and size). The new context starts with the caller's
// floating-point control state (and, ucontext kind, signal mask), as POSIX
// asks of pthread_create. entry() must never return.
void context_init(Context* ctx, void* stack_lo, std::size_t stack_size, void (*entry)());

// Saves the running context in `from` and resumes `to`, installing its
// thread pointer. Returns when someone switches back to `from`.
void context_switch(Context* from, Context* to);

// After `ctx` was resumed: true, with the mask, if the switch itself restored
// the kernel's signal mask (the ucontext kind does: the mask the context was
// saved with); false if it left the mask alone.
bool context_restored_signal_mask(const Context* ctx, uint64_t* mask);

// Calls fn(arg) on the stack that ends at `stack_top`, then returns here.
void call_on_stack(void (*fn)(void*), void* arg, void* stack_top);

// Calls fn(arg); if an unwind leaves fn (a forced unwind, a C++ exception),
// on_unwind(unwind_arg) runs first and the unwind goes on, as a C cleanup
// attribute would do (call_guarded_x86_64.S).
void call_guarded(void (*fn)(void*), void* arg, void (*on_unwind)(void*), void* unwind_arg);

// Copies a saved context into a libunwind unw_context_t (`size` bytes) so a
// suspended thread can be unwound. False if this context kind cannot.
bool context_for_unwind(const Context* ctx, void* unw_context, std::size_t size);

// ---- for a debugger (core/diag/debugger_view.cc copies these into its view) --------------
// A debugger reads a suspended thread's registers from memory, without
// running code here: each saved register is at `base + offset`, where base
// is Context::stack_pointer (fast switch) or Context::uc (ucontext switch);
// `is_address`: the register's value is that address itself (the stack
// pointer the thread resumes with), not what is stored there. Registers are
// named as gdb names them; a table ends with an empty name.
struct SavedRegister {
  char name[16];
  int32_t offset;
  uint32_t is_address;
};
extern const SavedRegister kFastSavedRegisters[];      // context_x86_64_sysv.cc
extern const SavedRegister kUcontextSavedRegisters[];  // context_ucontext.cc
// The register Context::thread_pointer goes to.
extern const char kThreadPointerRegister[];
// The switch in use (context_kind() reads it): a debugger cannot call it.
extern SwitchKind g_context_kind;

}  // namespace ptshim::arch
