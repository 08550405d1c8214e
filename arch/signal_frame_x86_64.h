// What the preemption handler needs to know about the interrupted code, read
// from the ucontext the kernel hands to an SA_SIGINFO handler.
#pragma once

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

}  // namespace ptshim::arch
