/* Two threads each add ROUNDS to a global with a plain load and store
 * (counter++ on a volatile int) and no library call between the two: an
 * update is lost only if a thread is preempted between its load and its
 * store and the other one adds meanwhile. Prints the final count; exits 1
 * when updates were lost.
 *
 * With the argument "calls", each round also makes a library call (outside
 * the load-store window), so a thread spends most of its time in libc. */
#include <pthread.h>
#include <string.h>

#include "check.h"

enum { ROUNDS = 200, THREADS = 2 };

static volatile int counter;
static int calls;
static volatile long sink;

static void* worker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  if (calls) {
    for (int i = 0; i < ROUNDS; i++) {
      counter++;
      sink += getppid();
    }
  } else {
    for (int i = 0; i < ROUNDS; i++) counter++;
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  calls = argc > 1 && strcmp(argv[1], "calls") == 0;
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&threads[i], NULL, worker, NULL), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(threads[i], NULL), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf("lost_update: counter=%d of %d\n", counter, ROUNDS * THREADS);
  return counter == ROUNDS * THREADS ? 0 : 1;
}
