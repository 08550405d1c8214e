// The fast switch's C++ side: building a new context's first frame and
// reading a saved frame for the unwinder. The frame is drawn in
// arch/switch_x86_64_sysv.S.
#include <sys/ucontext.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "arch/context_kinds.h"

extern "C" {
void ptshim_context_swap(void** save_sp, void* load_sp);
void ptshim_context_start();
void ptshim_call_on_stack(void (*fn)(void*), void* arg, void* stack_top);
void ptshim_call_guarded(void (*fn)(void*), void* arg, void (*on_unwind)(void*), void* unwind_arg);
}

namespace ptshim::arch {

namespace {
// The saved frame, lowest address first.
struct SwitchFrame {
  uint32_t mxcsr;
  uint16_t x87_control;
  uint16_t unused;
  uint64_t r15, r14, r13, r12, rbx, rbp;
  uint64_t return_address;
};
static_assert(sizeof(SwitchFrame) == 64);
}  // namespace

#define PTSHIM_FRAME_SLOT(reg) \
  { #reg, offsetof(SwitchFrame, reg), 0 }
const SavedRegister kFastSavedRegisters[] = {
    {"rip", offsetof(SwitchFrame, return_address), 0},
    {"rsp", sizeof(SwitchFrame), 1},  // the switch returns with the frame popped
    PTSHIM_FRAME_SLOT(rbp),
    PTSHIM_FRAME_SLOT(rbx),
    PTSHIM_FRAME_SLOT(r12),
    PTSHIM_FRAME_SLOT(r13),
    PTSHIM_FRAME_SLOT(r14),
    PTSHIM_FRAME_SLOT(r15),
    {"", 0, 0},
};
#undef PTSHIM_FRAME_SLOT

void fast_context_init(Context* ctx, void* stack_lo, std::size_t stack_size, void (*entry)()) {
  // The frame ends at a 16-byte boundary: ptshim_context_start then calls
  // entry() with the alignment the ABI requires.
  auto top = (reinterpret_cast<uintptr_t>(stack_lo) + stack_size) & ~uintptr_t{15};
  auto* frame = reinterpret_cast<SwitchFrame*>(top - sizeof(SwitchFrame));
  memset(frame, 0, sizeof *frame);
  asm("stmxcsr %0" : "=m"(frame->mxcsr));
  asm("fnstcw %0" : "=m"(frame->x87_control));
  frame->r12 = reinterpret_cast<uint64_t>(entry);
  frame->return_address = reinterpret_cast<uint64_t>(&ptshim_context_start);
  ctx->stack_pointer = frame;
}

void fast_context_switch(Context* from, Context* to) {
  ptshim_context_swap(&from->stack_pointer, to->stack_pointer);
}

void call_on_stack(void (*fn)(void*), void* arg, void* stack_top) {
  ptshim_call_on_stack(fn, arg, stack_top);
}

void call_guarded(void (*fn)(void*), void* arg, void (*on_unwind)(void*), void* unwind_arg) {
  ptshim_call_guarded(fn, arg, on_unwind, unwind_arg);
}

bool fast_context_for_unwind(const Context* ctx, void* unw_context, std::size_t size) {
  // libunwind's unw_context_t is a ucontext_t on x86-64: the registers as
  // they will be when the switch returns.
  if (ctx->stack_pointer == nullptr || size < sizeof(ucontext_t)) return false;
  const auto* frame = static_cast<const SwitchFrame*>(ctx->stack_pointer);
  auto* uc = static_cast<ucontext_t*>(unw_context);
  memset(uc, 0, sizeof *uc);
  greg_t* r = uc->uc_mcontext.gregs;
  r[REG_R15] = static_cast<greg_t>(frame->r15);
  r[REG_R14] = static_cast<greg_t>(frame->r14);
  r[REG_R13] = static_cast<greg_t>(frame->r13);
  r[REG_R12] = static_cast<greg_t>(frame->r12);
  r[REG_RBX] = static_cast<greg_t>(frame->rbx);
  r[REG_RBP] = static_cast<greg_t>(frame->rbp);
  r[REG_RIP] = static_cast<greg_t>(frame->return_address);
  r[REG_RSP] = static_cast<greg_t>(reinterpret_cast<uintptr_t>(frame + 1));
  return true;
}

}  // namespace ptshim::arch
