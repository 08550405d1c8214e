// The portable context switch: glibc's ucontext functions. Each switch costs a
// sigprocmask system call (swapcontext saves and restores the signal mask).
// A created context keeps its ucontext_t at the top of its own stack; the
// process's first thread, which was never made, saves into a static one.
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "arch/context_kinds.h"

namespace ptshim::arch {

#define PTSHIM_GREG(name, index) \
  { name, offsetof(ucontext_t, uc_mcontext.gregs) + (index) * sizeof(greg_t), 0 }
const SavedRegister kUcontextSavedRegisters[] = {
    PTSHIM_GREG("rip", REG_RIP), PTSHIM_GREG("rsp", REG_RSP), PTSHIM_GREG("rbp", REG_RBP),
    PTSHIM_GREG("rbx", REG_RBX), PTSHIM_GREG("r12", REG_R12), PTSHIM_GREG("r13", REG_R13),
    PTSHIM_GREG("r14", REG_R14), PTSHIM_GREG("r15", REG_R15), PTSHIM_GREG("rax", REG_RAX),
    PTSHIM_GREG("rcx", REG_RCX), PTSHIM_GREG("rdx", REG_RDX), PTSHIM_GREG("rsi", REG_RSI),
    PTSHIM_GREG("rdi", REG_RDI), PTSHIM_GREG("r8", REG_R8),   PTSHIM_GREG("r9", REG_R9),
    PTSHIM_GREG("r10", REG_R10), PTSHIM_GREG("r11", REG_R11), {"", 0, 0},
};
#undef PTSHIM_GREG

namespace {
ucontext_t g_first_thread_context;

ucontext_t* storage(Context* ctx) {
  if (ctx->uc == nullptr) ctx->uc = &g_first_thread_context;
  return ctx->uc;
}
}  // namespace

void ucontext_init(Context* ctx, void* stack_lo, std::size_t stack_size, void (*entry)()) {
  constexpr std::size_t kReserved = (sizeof(ucontext_t) + 63) & ~std::size_t{63};
  auto top = (reinterpret_cast<uintptr_t>(stack_lo) + stack_size) & ~uintptr_t{63};
  ctx->uc = reinterpret_cast<ucontext_t*>(top - kReserved);
  if (getcontext(ctx->uc) != 0) abort();
  ctx->uc->uc_stack.ss_sp = stack_lo;
  ctx->uc->uc_stack.ss_size = top - kReserved - reinterpret_cast<uintptr_t>(stack_lo);
  ctx->uc->uc_stack.ss_flags = 0;
  ctx->uc->uc_link = nullptr;
  makecontext(ctx->uc, entry, 0);
}

void ucontext_switch(Context* from, Context* to) {
  if (swapcontext(storage(from), storage(to)) != 0) abort();
}

bool ucontext_restored_signal_mask(const Context* ctx, uint64_t* mask) {
  if (ctx->uc == nullptr) return false;
  memcpy(mask, &ctx->uc->uc_sigmask, sizeof *mask);
  return true;
}

bool ucontext_for_unwind(const Context* ctx, void* unw_context, std::size_t size) {
  if (ctx->uc == nullptr || size < sizeof *ctx->uc) return false;
  memcpy(unw_context, ctx->uc, sizeof *ctx->uc);  // unw_context_t is a ucontext_t here
  return true;
}

}  // namespace ptshim::arch
