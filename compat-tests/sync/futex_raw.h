/* futex(2) made with a raw `syscall` instruction, as libgomp makes it:
 * returns the kernel's result (a count, or -errno). */
#pragma once
#include <time.h>

/* Any system call, the same way: the kernel's result. */
long raw_syscall6(long number, long a1, long a2, long a3, long a4, long a5, long a6);
long raw_futex(unsigned* word, int op, unsigned value, const struct timespec* timeout,
               unsigned* word2, unsigned value3);
