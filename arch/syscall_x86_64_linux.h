// Raw Linux system calls for x86-64. The shim issues its own system calls so
// that it never enters a libc wrapper it might also interpose (nanosleep,
// sched_yield, ...), and so the timer handler needs nothing from libc.
#pragma once

#include <cstdint>

namespace ptshim::arch {

inline long raw_syscall(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0,
                        long a6 = 0) {
  register long r10 asm("r10") = a4;
  register long r8 asm("r8") = a5;
  register long r9 asm("r9") = a6;
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}

}  // namespace ptshim::arch
