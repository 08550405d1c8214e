/* A crash in a static (local) function, in a thread whose start routine is
 * static too, while it holds a static mutex; an exported function lies just
 * before them (the program is linked with -rdynamic, so its exports are in
 * .dynsym). Built and split several ways (compat-tests/reports/CMakeLists.txt):
 * the report names the local functions from the program's .symtab or its
 * separate debug file, by object and offset when neither is there, and never
 * after the export before them.
 */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int sink;

__attribute__((noipa)) void exported_neighbour(int n) {
  for (int i = 0; i < n; ++i) sink += i;
}

__attribute__((noipa)) static int local_fault(int* p) {
  sink = 1;
  return *p + sink;
}

static void* local_worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_mutex_lock(&held_lock);
  int r = local_fault((int*)arg);
  sink += r; /* not a tail call: this frame stays on the stack */
  return NULL;
}

int main(int argc, char** argv) {
  (void)argv;
  CHECK_ON_MAIN_KERNEL_THREAD();
  exported_neighbour(argc);
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, local_worker, NULL), 0);
  pthread_join(t, NULL);
  CHECK_MSG(0, "the crashing thread returned");
  return 1;
}
