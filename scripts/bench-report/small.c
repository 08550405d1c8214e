/* A small program's stack overflow: a recursion in a thread (or in main)
 * with 64-byte frames until the stack ends.
 *   small thread | main
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void t0(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  fprintf(stderr, "t0 %lld\n", ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

__attribute__((noinline)) static int recurse(int depth) {
  volatile char frame[48];
  frame[0] = (char)depth;
  if (depth < 0) return 0;
  return recurse(depth + 1) + frame[0];
}

static void* worker(void* arg) {
  (void)arg;
  t0();
  return (void*)(long)recurse(0);
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "main") == 0) {
    t0();
    volatile int never = recurse(0);
    return never;
  }
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  return 1;
}
