/* A thread created with a PTHREAD_STACK_MIN stack can use as much of it as
 * natively, where glibc keeps about 4.4 KiB of it for the thread's TLS and
 * control block: here 5.5 KiB is left unused. The thread fills the rest
 * with a local array and spins in the frame that holds it while another
 * thread spins too, so the scheduler's ticks land at its deepest point and
 * switch it out and in again there. Once with pthread_attr_setstacksize,
 * once with pthread_attr_setstack on a buffer with an inaccessible page
 * below it (an overflow faults).
 * usage: stack_min [MILLISECONDS]   (default 300: the time spent deep) */
#include <alloca.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>

#include "check.h"

enum { KEPT_FREE = 5632 };

static int64_t spin_ns;
static int stop;

static void* spinner(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  volatile unsigned long spins = 0;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) spins++;
  return arg;
}

__attribute__((noinline)) static long go_deep(size_t bytes) {
  volatile char* block = alloca(bytes);
  for (size_t i = 0; i < bytes; i += 64) block[i] = (char)i;
  block[bytes - 1] = 1;
  int64_t end = now_ns() + spin_ns;
  long rounds = 0;
  while (now_ns() < end) {
    for (int i = 0; i < 100000; i++) block[i & 63]++;
    rounds++;
  }
  return rounds + block[bytes - 1];
}

static void* deep(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  long rounds = go_deep((size_t)PTHREAD_STACK_MIN - KEPT_FREE);
  CHECK(rounds > 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

static void run(const pthread_attr_t* attr, const char* how) {
  pthread_t spin, t;
  __atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&t, attr, deep, NULL), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  CHECK_RC(pthread_join(spin, NULL), 0);
  printf("stack_min: %s: %ld of %ld bytes used\n", how, (long)PTHREAD_STACK_MIN - KEPT_FREE,
         (long)PTHREAD_STACK_MIN);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  /* now_ns() once here: a lazy binding of clock_gettime resolved at the
   * deep point would need more stack (the loader saves every register). */
  spin_ns = (argc > 1 ? atoi(argv[1]) : 300) * NS_PER_MS + 0 * now_ns();
  CHECK(sysconf(_SC_THREAD_STACK_MIN) == PTHREAD_STACK_MIN);

  pthread_attr_t attr;
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN), 0);
  run(&attr, "pthread_attr_setstacksize");
  CHECK_RC(pthread_attr_destroy(&attr), 0);

  long page = sysconf(_SC_PAGESIZE);
  char* map = mmap(NULL, (size_t)(PTHREAD_STACK_MIN + page), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(map != MAP_FAILED);
  CHECK(mprotect(map, (size_t)page, PROT_NONE) == 0);
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setstack(&attr, map + page, PTHREAD_STACK_MIN), 0);
  run(&attr, "pthread_attr_setstack");
  CHECK_RC(pthread_attr_destroy(&attr), 0);
  CHECK(munmap(map, (size_t)(PTHREAD_STACK_MIN + page)) == 0);

  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
