/* ptshim-demo: an ordinary pthread program (it knows nothing of ptshim).
 *
 * Seven threads run at once:
 *   - main, which starts the others, joins them and reports;
 *   - a producer and a consumer passing ITEMS numbers through a bounded
 *     buffer guarded by a mutex and two condition variables;
 *   - a busy thread spinning in a loop that makes no library call at all:
 *     on a single kernel thread only preemption can take the CPU from it, and
 *     it stops only when main, which must therefore get the CPU back, sets a
 *     flag at the end;
 *   - three sleepers sleeping different times, which must wake in order.
 * Every thread records its kernel thread id (gettid), and Threads: is read
 * from /proc/self/status while all of them are alive and again at the end.
 *
 * Natively this reports 7 kernel threads; under ptshim it reports 1.
 * Exit status: 0 if the work was done correctly, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
  ITEMS = 400,  /* producer -> consumer */
  CAPACITY = 8, /* bounded buffer size */
  SLEEPERS = 3,
  NTHREADS = 1 + 2 + 1 + SLEEPERS, /* main, producer, consumer, busy, sleepers */
};

static const int sleep_ms[SLEEPERS] = {750, 250, 500}; /* started in this order */

/* --- bookkeeping ----------------------------------------------------------- */

static pthread_barrier_t start_barrier; /* all NTHREADS threads alive */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t tids[NTHREADS];
static int ntids;
static long threads_all_alive = -1; /* Threads: seen while all were alive */

static pid_t kernel_tid(void) { return (pid_t)syscall(SYS_gettid); }

static void record_tid(void) {
  pthread_mutex_lock(&log_lock);
  if (ntids < NTHREADS) tids[ntids++] = kernel_tid();
  pthread_mutex_unlock(&log_lock);
}

static long proc_threads(void) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  long n = -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "Threads:", 8) == 0) {
      n = strtol(line + 8, NULL, 10);
      break;
    }
  }
  fclose(f);
  return n;
}

/* Every thread calls this first: records its tid, then waits for the others. */
static void started(void) {
  record_tid();
  // NOLINTNEXTLINE(bugprone-posix-return): PTHREAD_BARRIER_SERIAL_THREAD is -1
  if (pthread_barrier_wait(&start_barrier) == PTHREAD_BARRIER_SERIAL_THREAD) {
    long n = proc_threads();
    pthread_mutex_lock(&log_lock);
    threads_all_alive = n;
    pthread_mutex_unlock(&log_lock);
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- producer / consumer ---------------------------------------------------- */

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_full;
  pthread_cond_t not_empty;
  int buf[CAPACITY];
  int head, count;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0};

static int produced, consumed, out_of_order;
static long long consumed_sum;

static void* producer(void* arg) {
  (void)arg;
  started();
  for (int i = 0; i < ITEMS; i++) {
    pthread_mutex_lock(&q.lock);
    while (q.count == CAPACITY) pthread_cond_wait(&q.not_full, &q.lock);
    q.buf[(q.head + q.count) % CAPACITY] = i;
    q.count++;
    produced++;
    pthread_cond_signal(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
  }
  return NULL;
}

static void* consumer(void* arg) {
  (void)arg;
  started();
  for (int i = 0; i < ITEMS; i++) {
    pthread_mutex_lock(&q.lock);
    while (q.count == 0) pthread_cond_wait(&q.not_empty, &q.lock);
    int v = q.buf[q.head];
    q.head = (q.head + 1) % CAPACITY;
    q.count--;
    pthread_cond_signal(&q.not_full);
    pthread_mutex_unlock(&q.lock);
    if (v != i) out_of_order++;
    consumed_sum += v;
    consumed++;
  }
  return NULL;
}

/* --- busy thread ------------------------------------------------------------ */

static atomic_bool stop_busy;
static unsigned long long busy_spins;

static void* busy(void* arg) {
  (void)arg;
  started();
  unsigned long long spins = 0;
  /* No call of any kind in this loop. */
  while (!atomic_load_explicit(&stop_busy, memory_order_relaxed)) spins++;
  busy_spins = spins;
  return NULL;
}

/* --- sleepers ---------------------------------------------------------------- */

static int wake_order[SLEEPERS];
static int nwoken;

static void* sleeper(void* arg) {
  int ms = *(const int*)arg;
  started();
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  pthread_mutex_lock(&log_lock);
  wake_order[nwoken++] = ms;
  pthread_mutex_unlock(&log_lock);
  return NULL;
}

/* --- main ---------------------------------------------------------------- */

static void create(pthread_t* t, void* (*fn)(void*), void* arg) {
  int rc = pthread_create(t, NULL, fn, arg);
  if (rc != 0) {
    fprintf(stderr, "ptshim-demo: pthread_create: %s\n", strerror(rc));
    exit(1);
  }
}

static int cmp_int(const void* a, const void* b) {
  int x = *(const int*)a, y = *(const int*)b;
  return (x > y) - (x < y);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  double t0 = now_s();
  pthread_barrier_init(&start_barrier, NULL, NTHREADS);

  pthread_t prod, cons, spin, sleepers[SLEEPERS];
  create(&prod, producer, NULL);
  create(&cons, consumer, NULL);
  create(&spin, busy, NULL);
  for (int i = 0; i < SLEEPERS; i++) create(&sleepers[i], sleeper, (void*)&sleep_ms[i]);
  started();

  pthread_join(prod, NULL);
  pthread_join(cons, NULL);
  for (int i = 0; i < SLEEPERS; i++) pthread_join(sleepers[i], NULL);
  long threads_end = proc_threads(); /* main and the busy thread are still alive */
  atomic_store(&stop_busy, true);
  pthread_join(spin, NULL);
  double elapsed = now_s() - t0;

  int ok = 1;
  long long want_sum = (long long)ITEMS * (ITEMS - 1) / 2;
  int pc_ok =
      produced == ITEMS && consumed == ITEMS && out_of_order == 0 && consumed_sum == want_sum;
  ok &= pc_ok;
  printf("producer/consumer: %d produced, %d consumed through a %d-slot buffer, %s\n", produced,
         consumed, CAPACITY,
         pc_ok ? "in order, checksum ok" : "WRONG (lost, duplicated or reordered)");

  ok &= busy_spins > 0;
  printf("busy thread: %llu spins in a loop with no library calls, stopped by main's flag\n",
         busy_spins);

  int expect[SLEEPERS];
  memcpy(expect, sleep_ms, sizeof expect);
  qsort(expect, SLEEPERS, sizeof expect[0], cmp_int);
  int order_ok = nwoken == SLEEPERS && memcmp(expect, wake_order, sizeof expect) == 0;
  ok &= order_ok;
  printf("sleepers (started as %d, %d, %d ms) woke in order:", sleep_ms[0], sleep_ms[1],
         sleep_ms[2]);
  for (int i = 0; i < nwoken; i++) printf(" %d", wake_order[i]);
  printf(" ms %s\n", order_ok ? "(shortest first, ok)" : "(WRONG order)");

  pid_t pid = getpid();
  int distinct = 0, on_main = 0;
  for (int i = 0; i < ntids; i++) {
    int seen = 0;
    for (int j = 0; j < i; j++) seen |= tids[j] == tids[i];
    distinct += !seen;
    on_main += tids[i] == pid;
  }
  printf(
      "kernel threads: Threads: %ld with all %d threads alive, %ld at the end;"
      " %d distinct gettid() values, %d of %d threads had gettid() == getpid()\n",
      threads_all_alive, NTHREADS, threads_end, distinct, on_main, ntids);
  printf("elapsed: %.2f s\n", elapsed);

  if (!ok) {
    printf("verdict: FAILED: the threads did not do their work correctly\n");
  } else if (threads_all_alive == 1 && distinct == 1 && on_main == NTHREADS) {
    printf("verdict: all %d threads ran on 1 kernel thread\n", NTHREADS);
  } else {
    long k = threads_all_alive > distinct ? threads_all_alive : distinct;
    printf("verdict: %d threads ran on %ld kernel threads\n", NTHREADS, k);
  }
  return ok ? 0 : 1;
}
