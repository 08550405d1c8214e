/* A thread (or main) recurses until its stack overflows. Under the shim the
 * process must die by SIGSEGV after a report that names the thread, its
 * stack, the collapsed recursion and the start routine.
 *   overflow thread64k | thread8m | thread-default | main
 */
#include <pthread.h>

#include "check.h"

static int depth_reached;

__attribute__((noinline)) static int recurse_deeper(int depth) {
  volatile char frame[48];
  frame[0] = (char)depth;
  if (depth < 0) return 0; /* never: keeps the compiler from calling it endless */
  depth_reached = depth;
  return recurse_deeper(depth + 1) + frame[0];
}

static void* overflow_worker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_setname_np(pthread_self(), "deep-diver"), 0);
  return (void*)(long)recurse_deeper(0);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  const char* mode = argc > 1 ? argv[1] : "thread-default";
  if (strcmp(mode, "main") == 0) {
    volatile int never = recurse_deeper(0); /* not a tail call: main stays on the stack */
    return never;
  }
  pthread_attr_t attr;
  CHECK_RC(pthread_attr_init(&attr), 0);
  if (strcmp(mode, "thread64k") == 0) CHECK_RC(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
  if (strcmp(mode, "thread8m") == 0) CHECK_RC(pthread_attr_setstacksize(&attr, 8 << 20), 0);
  pthread_t t;
  CHECK_RC(pthread_create(&t, &attr, overflow_worker, NULL), 0);
  pthread_join(t, NULL);
  CHECK_MSG(0, "the overflowing thread returned (depth %d)", depth_reached);
  return 1;
}
