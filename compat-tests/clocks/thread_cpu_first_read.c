/* CPU time used before the program first asks for any thread's CPU clock
 * belongs to the thread that used it. A worker burns 100 ms (measured on the
 * process's clock, which names no thread) and waits on a condvar; another
 * burns 50 ms and exits. Only then does main read its own
 * CLOCK_THREAD_CPUTIME_ID, which must hold neither worker's time, and the
 * waiting worker its own, which must hold its 100 ms. */
#include <pthread.h>

#include "check.h"

enum { WAITER_MS = 100, EXITER_MS = 50, SLACK_MS = 40 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int burned, read_by_main;
static int64_t waiter_cpu;

static void burn(int ms) {
  int64_t end = cpu_ns() + ms * NS_PER_MS;
  volatile unsigned long spins = 0;
  while (cpu_ns() < end) {
    for (int i = 0; i < 1000; i++) spins++;
  }
}

static void* waiter(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  burn(WAITER_MS);
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  burned = 1;
  CHECK_RC(pthread_cond_broadcast(&changed), 0);
  while (!read_by_main) CHECK_RC(pthread_cond_wait(&changed, &lock), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  waiter_cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

static void* exiter(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  burn(EXITER_MS);
  return arg;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t w, e;
  CHECK_RC(pthread_create(&w, NULL, waiter, NULL), 0);
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  while (!burned) CHECK_RC(pthread_cond_wait(&changed, &lock), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  CHECK_RC(pthread_create(&e, NULL, exiter, NULL), 0);
  CHECK_RC(pthread_join(e, NULL), 0);

  int64_t mine = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  CHECK_MSG(mine < SLACK_MS * NS_PER_MS,
            "main's first read of its own CPU clock: %lld ms, though it only waited",
            (long long)(mine / NS_PER_MS));
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  read_by_main = 1;
  CHECK_RC(pthread_cond_broadcast(&changed), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  CHECK_RC(pthread_join(w, NULL), 0);
  /* At least half: a thread's share is measured in real time between two
   * readings of the kernel's clock, so a host that took the processor away
   * from one thread more than from another skews it. */
  CHECK_MSG(
      waiter_cpu >= WAITER_MS / 2 * NS_PER_MS && waiter_cpu < (WAITER_MS + SLACK_MS) * NS_PER_MS,
      "the worker burned %d ms, then found %lld ms on its clock", WAITER_MS,
      (long long)(waiter_cpu / NS_PER_MS));
  printf("thread_cpu_first_read: main %lld ms, worker %lld ms\n", (long long)(mine / NS_PER_MS),
         (long long)(waiter_cpu / NS_PER_MS));
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
