/* futex(2) through libc's syscall(), as Rust's std and libstdc++'s atomic
 * waits use it, or (built with FUTEX_RAW) through a raw `syscall` instruction
 * in a shared library, as libgomp makes its barrier waits: waits, timeouts, bitsets, requeues and
 * FUTEX_WAKE_OP between threads, with the results the kernel gives. The ping-pong of 20,000 round
 * trips finishes in well under a second when a wait parks only its thread;
 * on one kernel thread that sleeps in the kernel until the next timer tick
 * instead, it would take minutes (the test's timeout stops it). */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"

enum { kRoundTrips = 20000 };

#ifdef FUTEX_RAW
#include "futex_raw.h"
#define NAME "futex_raw"
static long futex(atomic_uint* word, int op, unsigned value, const struct timespec* timeout,
                  atomic_uint* word2, unsigned value3) {
  long r = raw_futex((unsigned*)word, op, value, timeout, (unsigned*)word2, value3);
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return r;
}
#else
#define NAME "futex_syscall"
static long futex(atomic_uint* word, int op, unsigned value, const struct timespec* timeout,
                  atomic_uint* word2, unsigned value3) {
  return syscall(SYS_futex, word, op, value, timeout, word2, value3);
}
#endif

/* Waits while *word == value; returns 0, or the errno of the failure. */
static int wait_on(atomic_uint* word, int op, unsigned value, const struct timespec* timeout,
                   unsigned value3) {
  return futex(word, op, value, timeout, NULL, value3) == 0 ? 0 : errno;
}

/* ---- ping-pong: each side waits for its turn and wakes the other ---- */
static atomic_uint turn;
static int ping_op;

static void* pong(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < kRoundTrips; i++) {
    while (atomic_load(&turn) != 1) wait_on(&turn, FUTEX_WAIT | ping_op, 0, NULL, 0);
    atomic_store(&turn, 0);
    futex(&turn, FUTEX_WAKE | ping_op, 1, NULL, NULL, 0);
  }
  return NULL;
}

static void ping_pong(int private_flag) {
  ping_op = private_flag;
  atomic_store(&turn, 0);
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, pong, NULL), 0);
  for (int i = 0; i < kRoundTrips; i++) {
    atomic_store(&turn, 1);
    futex(&turn, FUTEX_WAKE | ping_op, 1, NULL, NULL, 0);
    while (atomic_load(&turn) != 0) wait_on(&turn, FUTEX_WAIT | ping_op, 1, NULL, 0);
  }
  CHECK_RC(pthread_join(t, NULL), 0);
}

/* ---- waiters that count themselves in, for the wake and requeue tests ---- */
struct waiter {
  atomic_uint* word;
  unsigned value;
  unsigned bitset;
  int result;
};
static atomic_int waiting, done;

static void* wait_once(void* arg) {
  struct waiter* w = arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  atomic_fetch_add(&waiting, 1);
  w->result = wait_on(w->word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, w->value, NULL, w->bitset);
  atomic_fetch_add(&done, 1);
  return NULL;
}

static void settle(void) { usleep(30 * 1000); } /* waiters reach their wait */

static void start_waiters(pthread_t* t, struct waiter* w, int n) {
  atomic_store(&waiting, 0);
  atomic_store(&done, 0);
  for (int i = 0; i < n; i++) CHECK_RC(pthread_create(&t[i], NULL, wait_once, &w[i]), 0);
  while (atomic_load(&waiting) != n) usleep(1000);
  settle();
}

static void join_all(pthread_t* t, int n) {
  for (int i = 0; i < n; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  ping_pong(FUTEX_PRIVATE_FLAG);
  ping_pong(0); /* a shared futex: the same between threads */
  printf(NAME ": %d round trips in %.3f s\n", 2 * kRoundTrips,
         (double)(now_ns() - start) / NS_PER_S);

  /* The word does not hold the value: EAGAIN at once. */
  atomic_uint word = 7;
  CHECK_RC(wait_on(&word, FUTEX_WAIT_PRIVATE, 6, NULL, 0), EAGAIN);
  CHECK_RC(wait_on(&word, FUTEX_WAIT_BITSET_PRIVATE, 6, NULL, FUTEX_BITSET_MATCH_ANY), EAGAIN);
  /* Bad arguments, as the kernel says. */
  CHECK_RC(wait_on(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, NULL, 0), EINVAL);
  struct timespec bad = {0, 1000000000};
  CHECK_RC(wait_on(&word, FUTEX_WAIT_PRIVATE, 7, &bad, 0), EINVAL);

  /* Timeouts: relative for FUTEX_WAIT, absolute for FUTEX_WAIT_BITSET. */
  struct timespec rel = {0, 20 * NS_PER_MS};
  int64_t t0 = now_ns();
  CHECK_RC(wait_on(&word, FUTEX_WAIT_PRIVATE, 7, &rel, 0), ETIMEDOUT);
  CHECK_MSG(now_ns() - t0 >= 20 * NS_PER_MS, "woke after %lld ns", (long long)(now_ns() - t0));
  struct timespec abs_mono = deadline_after(CLOCK_MONOTONIC, 20 * NS_PER_MS);
  t0 = now_ns();
  CHECK_RC(wait_on(&word, FUTEX_WAIT_BITSET_PRIVATE, 7, &abs_mono, FUTEX_BITSET_MATCH_ANY),
           ETIMEDOUT);
  CHECK(now_ns() - t0 >= 19 * NS_PER_MS);
  struct timespec abs_real = deadline_after(CLOCK_REALTIME, 20 * NS_PER_MS);
  CHECK_RC(wait_on(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 7, &abs_real,
                   FUTEX_BITSET_MATCH_ANY),
           ETIMEDOUT);

  /* Bitsets: a wake reaches only waiters whose bitset it meets. */
  pthread_t t[3];
  atomic_uint a = 0, b = 0;
  struct waiter w[3] = {{&a, 0, 0x1, -1}, {&a, 0, 0x2, -1}, {&a, 0, 0x3, -1}};
  start_waiters(t, w, 3);
  CHECK(futex(&a, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x4) == 0);
  CHECK(futex(&a, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 0x2) == 2);
  settle();
  CHECK(atomic_load(&done) == 2 && w[0].result == -1);
  CHECK(futex(&a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 1);
  join_all(t, 3);
  CHECK(w[0].result == 0 && w[1].result == 0 && w[2].result == 0);

  /* A wake of 0 (or a negative count) wakes one, as the kernel's does. */
  struct waiter z[2] = {{&a, 0, FUTEX_BITSET_MATCH_ANY, -1}, {&a, 0, FUTEX_BITSET_MATCH_ANY, -1}};
  start_waiters(t, z, 2);
  CHECK(futex(&a, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0) == 1);
  CHECK(futex(&a, FUTEX_WAKE_PRIVATE, (unsigned)-1, NULL, NULL, 0) == 1);
  join_all(t, 2);

  /* FUTEX_REQUEUE: wake one of three, move two to b, then wake those. */
  struct waiter r[3] = {{&a, 0, FUTEX_BITSET_MATCH_ANY, -1},
                        {&a, 0, FUTEX_BITSET_MATCH_ANY, -1},
                        {&a, 0, FUTEX_BITSET_MATCH_ANY, -1}};
  start_waiters(t, r, 3);
  CHECK(futex(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (const struct timespec*)2, &b, 99) == -1 &&
        errno == EAGAIN);
  CHECK(futex(&a, FUTEX_REQUEUE_PRIVATE, 1, (const struct timespec*)2, &b, 0) == 3);
  settle();
  CHECK(atomic_load(&done) == 1);
  CHECK(futex(&a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 0); /* none left on a */
  CHECK(futex(&b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) == 2);
  join_all(t, 3);

  /* FUTEX_WAKE_OP: set b to 5, wake a's waiter, and b's since b was 0. */
  atomic_store(&b, 0);
  struct waiter o[2] = {{&a, 0, FUTEX_BITSET_MATCH_ANY, -1}, {&b, 0, FUTEX_BITSET_MATCH_ANY, -1}};
  start_waiters(t, o, 2);
  unsigned op = FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0);
  CHECK(futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, (const struct timespec*)1, &b, op) == 2);
  CHECK(atomic_load(&b) == 5);
  join_all(t, 2);
  /* The comparison fails: only a's waiters are woken (there are none). */
  op = FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 100);
  CHECK(futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, (const struct timespec*)1, &b, op) == 0);
  CHECK(atomic_load(&b) == 6);

  /* Other system calls through syscall() are untouched. */
  CHECK(syscall(SYS_getpid) == getpid());
  CHECK(syscall(SYS_close, -1) == -1 && errno == EBADF);
#ifdef FUTEX_RAW
  /* And so are those made with the instruction, fork's included. */
  CHECK(raw_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0) == getpid());
  CHECK(raw_syscall6(SYS_close, -1, 0, 0, 0, 0, 0) == -EBADF);
  long pid = raw_syscall6(SYS_fork, 0, 0, 0, 0, 0, 0);
  if (pid == 0) raw_syscall6(SYS_exit_group, 7, 0, 0, 0, 0, 0);
  CHECK(pid > 0);
  int status;
  CHECK(waitpid((pid_t)pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7);
  ping_pong(FUTEX_PRIVATE_FLAG);
#endif
  CHECK_ONE_KERNEL_THREAD();
  printf(NAME ": all futex operations behaved as the kernel's\n");
  return 0;
}
