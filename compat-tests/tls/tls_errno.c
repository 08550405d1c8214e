/* Per-thread state that lives in thread-local storage.
 * usage: tls_errno errno|tls
 *   errno: errno is 0 when main starts (nothing before it failed on the
 *          program's behalf); errno is per thread: a value set before a
 *          switch is there after it, and a failing call sets only the
 *          caller's errno.
 *   tls:   __thread / _Thread_local variables start from their initializer
 *          in each new thread, keep their values across switches and live at
 *          distinct addresses. */
#include <pthread.h>

#include "check.h"

enum { THREADS = 8, ROUNDS = 50 };

static int check_tls; /* 1: tls mode, 0: errno mode */

static __thread int tls_counter = 1000; /* initialized TLS (.tdata) */
static _Thread_local long tls_zeroed;   /* zero-initialized TLS (.tbss) */
static uintptr_t tls_address[THREADS];
static int recorded; /* threads that stored their address */

/* Switch away (a yield, or a sleep every few rounds) and come back. */
static void switch_away(int round) {
  if (round % 10 == 0)
    usleep(100);
  else
    sched_yield();
}

static void errno_rounds(int idx) {
  for (int r = 0; r < ROUNDS; r++) {
    errno = 100 + idx;
    switch_away(r);
    CHECK_MSG(errno == 100 + idx, "thread %d: errno %d after a switch, want %d", idx, errno,
              100 + idx);
  }
  /* A failing call sets this thread's errno only. */
  errno = 0;
  CHECK(close(-1) == -1 && errno == EBADF);
  sched_yield();
  CHECK_MSG(errno == EBADF, "thread %d: errno %d after a switch, want EBADF", idx, errno);
}

static void tls_rounds(int idx) {
  CHECK_MSG(tls_counter == 1000 && tls_zeroed == 0,
            "thread %d started with tls_counter=%d tls_zeroed=%ld, want 1000 and 0", idx,
            tls_counter, tls_zeroed);
  tls_address[idx] = (uintptr_t)&tls_counter;
  /* All stay alive until all have recorded, so no TLS block is reused. */
  __atomic_add_fetch(&recorded, 1, __ATOMIC_ACQ_REL);
  while (__atomic_load_n(&recorded, __ATOMIC_ACQUIRE) < THREADS) sched_yield();
  for (int r = 0; r < ROUNDS; r++) {
    tls_counter++;
    tls_zeroed += idx;
    switch_away(r);
    CHECK_MSG(tls_counter == 1000 + r + 1, "thread %d: tls_counter %d, want %d", idx, tls_counter,
              1000 + r + 1);
    CHECK(tls_zeroed == (long)idx * (r + 1));
  }
}

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  if (check_tls)
    tls_rounds(idx);
  else
    errno_rounds(idx);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(int argc, char** argv) {
  int errno_at_main = errno;
  CHECK_MSG(errno_at_main == 0, "errno is %d (%s) when main starts", errno_at_main,
            strerror(errno_at_main));
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_MSG(argc == 2 && (strcmp(argv[1], "errno") == 0 || strcmp(argv[1], "tls") == 0),
            "usage: %s errno|tls", argv[0]);
  check_tls = strcmp(argv[1], "tls") == 0;
  tls_counter = 5; /* main's copy: must not leak into new threads */
  errno = 77;
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&t[i], NULL, worker, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK_MSG(errno == 77, "main's errno became %d", errno);
  if (check_tls) {
    CHECK_MSG(tls_counter == 5, "main's tls_counter became %d", tls_counter);
    for (int i = 0; i < THREADS; i++) {
      CHECK(tls_address[i] != (uintptr_t)&tls_counter);
      for (int j = 0; j < i; j++)
        CHECK_MSG(tls_address[i] != tls_address[j], "threads %d and %d share TLS", i, j);
    }
  }
  CHECK_ONE_KERNEL_THREAD();
  if (check_tls)
    printf(
        "tls_errno: %d threads: __thread/_Thread_local start from their initializers, "
        "are distinct and keep their values across %d switches\n",
        THREADS, ROUNDS);
  else
    printf(
        "tls_errno: %d threads: errno kept per thread across %d switches; a failing "
        "call sets only the caller's errno\n",
        THREADS, ROUNDS);
  return 0;
}
