/* The program `scripts/bench-explore.sh` explores: about 1 ms of work
 * natively (4 threads mixing arithmetic with a shared mutex and a condvar
 * hand-off at the end), then the result on stdout (the same in every run) and
 * the work's time on stderr:
 *   result=<sum>
 *   work_ms=<float>
 * An ordinary pthread program; knows nothing of ptshim. The argument scales
 * the work (default 100000 steps per thread). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kThreads = 4 };
static long steps = 100000;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static unsigned long total;
static int finished;

static void* worker(void* arg) {
  unsigned long x = (unsigned long)arg * 2654435761u + 1;
  for (long i = 0; i < steps; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (i % 64 == 0) {
      pthread_mutex_lock(&lock);
      total += x & 0xff;
      pthread_mutex_unlock(&lock);
    }
  }
  pthread_mutex_lock(&lock);
  ++finished;
  pthread_cond_signal(&done_cond);
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc > 1) steps = atol(argv[1]);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pthread_t t[kThreads];
  for (long i = 0; i < kThreads; ++i) {
    if (pthread_create(&t[i], NULL, worker, (void*)i) != 0) return 3;
  }
  pthread_mutex_lock(&lock);
  while (finished < kThreads) pthread_cond_wait(&done_cond, &lock);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < kThreads; ++i) pthread_join(t[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("result=%lu\n", total);
  fprintf(stderr, "work_ms=%.3f\n",
          (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
  return 0;
}
