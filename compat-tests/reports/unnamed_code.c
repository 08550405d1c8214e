/* A crash in code that no symbol covers, in a program that is not stripped:
 * hand-written assembly after a small function whose .size ends before it.
 * The nearest symbol below the pc is that function's, a local one the loader
 * does not see; it does not contain the pc, so the frame must be named by
 * object and offset, not `sized_before+0x1`.
 */
#include <pthread.h>

#include "check.h"

__asm__(
    ".text\n"
    ".type sized_before, @function\n"
    "sized_before:\n"
    "  ret\n"
    ".size sized_before, .-sized_before\n"
    ".Lunnamed:\n"
    "  .cfi_startproc\n"
    "  movl 0, %eax\n"
    "  ret\n"
    "  .cfi_endproc\n"
    ".section .data.rel.local, \"aw\"\n"
    ".p2align 3\n"
    "unnamed_code:\n"
    "  .quad .Lunnamed\n"
    ".text\n");

extern void (*const unnamed_code)(void) __asm__("unnamed_code");

static void* runs_unnamed(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  void (*volatile f)(void) = unnamed_code;
  f();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, runs_unnamed, NULL), 0);
  pthread_join(t, NULL);
  CHECK_MSG(0, "the crashing thread returned");
  return 1;
}
