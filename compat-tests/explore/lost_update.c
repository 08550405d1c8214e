/* A lost update through a plain increment: two threads add to one counter
 * with `counter++` on a volatile long, a load and a store with no library
 * call between them. A switch between another thread's load and store (a
 * preemption at an arbitrary instruction) loses increments and the total
 * comes out short. Natively the second thread usually starts after the
 * first has finished its short loop. The fixed twin (-DFIXED) adds with one
 * atomic read-modify-write instruction.
 * usage: lost_update [INCREMENTS]   (per thread, default 20000) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static volatile long counter;
static long increments;

static void* add(void* arg) {
  (void)arg;
  for (long i = 0; i < increments; i++) {
#ifdef FIXED
    __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
#else
    counter++;
#endif
  }
  return NULL;
}

int main(int argc, char** argv) {
  increments = argc > 1 ? atol(argv[1]) : 20000;
  pthread_t a, b;
  if (pthread_create(&a, NULL, add, NULL) != 0) return 2;
  if (pthread_create(&b, NULL, add, NULL) != 0) return 2;
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  if (counter != 2 * increments) {
    fprintf(stderr, "lost_update: counter is %ld, want %ld: %ld increments lost\n", counter,
            2 * increments, 2 * increments - counter);
    return 1;
  }
  printf("lost_update: no increment lost\n");
  return 0;
}
