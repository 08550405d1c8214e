// Raw Linux system calls for x86-64. The shim issues its own system calls so
// that it never enters a libc wrapper it might also interpose (nanosleep,
// sched_yield, ...), and so the timer handler needs nothing from libc.
//
// Every one of them executes the same two instructions, `syscall; ret`, at
// ptshim_syscall_site: ptshim's own copy (arch/syscall_x86_64_linux.S) until
// core/io/syscall_trap.cc points it at the same two bytes found inside libc's
// code. While system calls made outside libc trap (syscall user dispatch
// allows one address range), ptshim's own are then made from inside it.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
// `syscall; ret`; written once, at start-up, before the first trap.
extern const void* ptshim_syscall_site __attribute__((visibility("hidden")));
}

namespace ptshim::arch {

inline long raw_syscall(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0,
                        long a6 = 0) {
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  long ret;
  // The call pushes a return address: step over the red zone (128 bytes) the
  // function this is inlined into may keep below its stack pointer.
  asm volatile(
      "sub $128, %%rsp\n\t"
      "call *%[site]\n\t"
      "add $128, %%rsp"
      : "=a"(ret)
      : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
        "r"(r9), [site] "r"(ptshim_syscall_site)
      : "rcx", "r11", "memory", "cc");
  return ret;
}

// The first `syscall; ret` (0f 05 c3) in [code, code + size): the bytes need
// not start an instruction of that code, since a call there decodes them anew.
inline const void* find_syscall_site(const void* code, size_t size) {
  const auto* p = static_cast<const unsigned char*>(code);
  for (size_t i = 0; i + 3 <= size; ++i) {
    if (p[i] == 0x0f && p[i + 1] == 0x05 && p[i + 2] == 0xc3) return p + i;
  }
  return nullptr;
}

}  // namespace ptshim::arch
