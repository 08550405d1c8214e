// What the preemption handler needs to know about the interrupted code, read
// from the ucontext the kernel hands to an SA_SIGINFO handler.
#pragma once

#include <signal.h>
#include <sys/ucontext.h>

#include <cstdint>

namespace ptshim::arch {

inline uintptr_t interrupted_pc(const void* ucontext) {
  return static_cast<uintptr_t>(
      static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_RIP]);
}

inline uintptr_t interrupted_sp(const void* ucontext) {
  return static_cast<uintptr_t>(
      static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_RSP]);
}

// The mask the kernel restores when the handler returns (signals 1 to 64).
inline uint64_t interrupted_signal_mask(const void* ucontext) {
  uint64_t mask;
  __builtin_memcpy(&mask, &static_cast<const ucontext_t*>(ucontext)->uc_sigmask, sizeof mask);
  return mask;
}

// True if the signal landed on a `syscall` instruction with a system call
// number in rax: either about to make the call, or (SA_RESTART) interrupted
// in it, the kernel having wound the pc back so that returning from the
// handler makes the call again. Gives the number and the first arguments.
inline bool interrupted_syscall(const void* ucontext, long* number, long args[4]) {
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
  const auto* pc = reinterpret_cast<const unsigned char*>(uc->uc_mcontext.gregs[REG_RIP]);
  if (pc[0] != 0x0f || pc[1] != 0x05) return false;
  *number = uc->uc_mcontext.gregs[REG_RAX];
  args[0] = uc->uc_mcontext.gregs[REG_RDI];
  args[1] = uc->uc_mcontext.gregs[REG_RSI];
  args[2] = uc->uc_mcontext.gregs[REG_RDX];
  args[3] = uc->uc_mcontext.gregs[REG_R10];
  return *number >= 0 && *number < 1024;
}

// The six system call arguments, where the kernel's calling convention puts
// them.
inline void syscall_arguments(const greg_t* r, long args[6]) {
  args[0] = r[REG_RDI];
  args[1] = r[REG_RSI];
  args[2] = r[REG_RDX];
  args[3] = r[REG_R10];
  args[4] = r[REG_R8];
  args[5] = r[REG_R9];
}

// True if the signal interrupted a blocking system call that the kernel then
// ended with EINTR instead of restarting it (a timed wait: its restart needs
// no handler in between): the pc is just after a `syscall` instruction and
// rax holds -EINTR. The number is lost; gives the six arguments, which the
// call left in place.
inline bool interrupted_syscall_ended(const void* ucontext, long args[6]) {
  const greg_t* r = static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs;
  const auto* pc = reinterpret_cast<const unsigned char*>(r[REG_RIP]);
  // The bytes before the pc are read only within its 4 KiB block, which is
  // mapped with it (a pc that only looks like it ended a call may start code
  // after an unmapped page).
  if (r[REG_RAX] != -4 /* EINTR */ || (reinterpret_cast<uintptr_t>(pc) & 4095) < 2 ||
      pc[-2] != 0x0f || pc[-1] != 0x05) {
    return false;
  }
  syscall_arguments(r, args);
  return true;
}

// For interrupted_syscall_ended: whether the few bytes before the `syscall`
// that ended at the pc load `number` into eax (mov $number, %eax: b8 imm32),
// which is how a libc wrapper sets up a call whose number is fixed.
inline bool syscall_number_loaded_before(const void* ucontext, long number) {
  const auto* end = reinterpret_cast<const unsigned char*>(
                        static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_RIP]) -
                    2;
  auto block = reinterpret_cast<uintptr_t>(end) & ~uintptr_t{4095};  // see above
  for (const unsigned char* p = end - 5; p >= end - 16 && reinterpret_cast<uintptr_t>(p) >= block;
       --p) {
    int32_t imm;
    __builtin_memcpy(&imm, p + 1, sizeof imm);
    if (p[0] == 0xb8 && imm == number) return true;
  }
  return false;
}

// For a signal on a `syscall` instruction (interrupted_syscall): the call is
// not made again (the kernel wound the pc back to restart it, or it was
// about to be made); returning from the handler resumes after it with
// `result` in rax, as if the call had returned that.
inline void skip_interrupted_syscall(void* ucontext, long result) {
  greg_t* r = static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs;
  r[REG_RIP] += 2;
  r[REG_RAX] = result;
}

// The interrupted call returns `result` when the handler returns.
inline void set_interrupted_syscall_result(void* ucontext, long result) {
  static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_RAX] = result;
}

// A system call that syscall user dispatch stopped (SIGSYS, SYS_USER_DISPATCH):
// the kernel rolled rax back to the call's number and left the pc after the
// `syscall` instruction. Gives the six arguments and returns the number.
inline long trapped_syscall(const void* ucontext, long args[6]) {
  const greg_t* r = static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs;
  syscall_arguments(r, args);
  return r[REG_RAX];
}

// The trapped call returns `result` when the handler returns.
inline void set_trapped_syscall_result(void* ucontext, long result) {
  static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_RAX] = result;
}

// Returning from the handler executes the trapped instruction again (rax
// still holds the number).
inline void repeat_trapped_syscall(void* ucontext) {
  static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_RIP] -= 2;
}

// The fault address the kernel reported with a synchronous signal.
inline uintptr_t fault_address(const void* siginfo) {
  return reinterpret_cast<uintptr_t>(static_cast<const siginfo_t*>(siginfo)->si_addr);
}

// libunwind's unw_context_t is a ucontext_t on x86-64: a context whose only
// content is a program counter, for looking up the function around it.
inline void set_unwind_pc(void* unw_context, uintptr_t pc) {
  static_cast<ucontext_t*>(unw_context)->uc_mcontext.gregs[REG_RIP] = static_cast<greg_t>(pc);
}

}  // namespace ptshim::arch
