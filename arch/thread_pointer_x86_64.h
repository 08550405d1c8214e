// The thread pointer (x86-64: the fs base), which locates the running
// thread's control block and with it errno, __thread variables and the
// stack-protector canary.
#pragma once

namespace ptshim::arch {

// The running thread's control block: its first word points to itself.
inline void* thread_pointer() {
  void* tp;
  asm("mov %%fs:0, %0" : "=r"(tp));
  return tp;
}

// wrfsbase when the kernel allows it (AT_HWCAP2 FSGSBASE, ~14 ns here),
// arch_prctl(ARCH_SET_FS) otherwise (~200 ns).
void set_thread_pointer(void* tp);

}  // namespace ptshim::arch
