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
