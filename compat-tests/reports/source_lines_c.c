/* A C program built -O2 -g (or without -g): a NULL dereference in a static
 * inline function inlined into its caller, in a thread. Under the shim the
 * report names the source line of each frame and the inlined function;
 * without -g it names functions and offsets only.
 *   source_lines_c [closed-stdio]
 */
#include <pthread.h>

#include "check.h"

static int* volatile nowhere;

static inline int load_it(int* p) { return *p + 1; /* SOURCE_LINES_C_FAULT (line 13) */ }

__attribute__((noinline)) static int crash_here(int n) {
  return load_it(nowhere) * n; /* SOURCE_LINES_C_INLINED_AT (line 16) */
}

static void* crasher(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  return (void*)(long)crash_here((int)(long)arg); /* line 21 */
}

int main(int argc, char** argv) {
  /* closed-stdio: the report's symbolizer gets no inherited descriptor 0 or 1 */
  if (argc > 1 && strcmp(argv[1], "closed-stdio") == 0) (void)(close(0) + close(1));
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, crasher, (void*)(long)argc), 0); /* line 28 */
  pthread_join(t, NULL);
  CHECK_MSG(0, "the crashing thread returned");
  return 1;
}
