/* Faults that are not overflows: a NULL dereference, abort(), a divide by
 * zero, each in a named thread while another thread sleeps. The process
 * must die by the signal after a report naming the thread and function.
 *   crash null | abort | fpe
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "check.h"

static const char* mode;
static volatile int divisor;

__attribute__((noinline)) static int crash_here(int* p) {
  if (strcmp(mode, "abort") == 0) abort();
  if (strcmp(mode, "fpe") == 0) return 100 / divisor;
  return *p;
}

static void* crasher(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_setname_np(pthread_self(), "crasher"), 0);
  return (void*)(long)crash_here((int*)arg);
}

static void* bystander(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(500 * 1000);
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  mode = argc > 1 ? argv[1] : "null";
  pthread_t idle, t;
  CHECK_RC(pthread_create(&idle, NULL, bystander, NULL), 0);
  CHECK_RC(pthread_create(&t, NULL, crasher, NULL), 0);
  pthread_join(t, NULL);
  CHECK_MSG(0, "the crashing thread returned");
  return 1;
}
