/* A shared library that makes futex(2) with its own `syscall` instruction,
 * as libgomp's barriers do (config/linux/x86/futex.h): no libc function, no
 * interposable symbol is involved. */
#include "futex_raw.h"

#include <sys/syscall.h>

long raw_syscall6(long number, long a1, long a2, long a3, long a4, long a5, long a6) {
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

long raw_futex(unsigned* word, int op, unsigned value, const struct timespec* timeout,
               unsigned* word2, unsigned value3) {
  return raw_syscall6(SYS_futex, (long)word, op, value, (long)timeout, (long)word2, value3);
}
