// What the unwinder for pthread_exit and cancellation needs from a jmp_buf
// made by the program's sigsetjmp (pthread_cleanup_push): its stack pointer.
// glibc stores it mangled: xor with the pointer guard (%fs:0x30), rotated
// left by 17 bits.
#pragma once

#include <cstdint>

namespace ptshim::arch {

inline uintptr_t jmpbuf_stack_pointer(const void* jmp_buf) {
  constexpr int kJbRsp = 6;
  uintptr_t mangled = static_cast<const uintptr_t*>(jmp_buf)[kJbRsp];
  uintptr_t guard;
  asm("mov %%fs:0x30, %0" : "=r"(guard));
  uintptr_t rotated = (mangled >> 17) | (mangled << (64 - 17));
  return rotated ^ guard;
}

}  // namespace ptshim::arch
