// An ordinary threaded program for scripts/gdb/check-core-threads.sh: a
// second thread blocks in parked_in_known_place (read of a pipe nobody
// writes), then the main thread aborts in crash_in_known_place, so its core
// has two threads stopped in known functions. Knows nothing of ptshim.
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static int pipe_fds[2];
static atomic_int parked;

__attribute__((noinline)) void parked_in_known_place(void) {
  char byte;
  atomic_store(&parked, 1);
  if (read(pipe_fds[0], &byte, 1) < 0) abort();
  __asm__ volatile("" ::: "memory");  // no tail call: this frame stays on the stack
}

static void* second_thread(void* arg) {
  (void)arg;
  parked_in_known_place();
  return NULL;
}

__attribute__((noinline)) void crash_in_known_place(void) { abort(); }

int main(void) {
  pthread_t thread;
  if (pipe(pipe_fds) != 0 || pthread_create(&thread, NULL, second_thread, NULL) != 0) return 2;
  while (!atomic_load(&parked)) usleep(1000);
  usleep(20000);  // into read(), though any point in the function would do
  crash_in_known_place();
  return 0;
}
