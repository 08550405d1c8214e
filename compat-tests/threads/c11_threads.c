/* The C11 <threads.h> API. glibc implements it inside libc on its own
 * pthread internals (no call goes through the interposable pthread_*
 * symbols), so each C11 function must itself run on the one kernel thread:
 * thrd_create/join/detach/exit/current/equal/yield/sleep, the three mtx_
 * kinds (counter with 8 threads, trylock, timedlock, recursion), cnd_
 * hand-off, broadcast and timed wait, call_once, tss_ with destructors.
 * usage: c11_threads [--expect-contention]
 * --expect-contention (used with a short timeslice) requires that some
 * mtx_trylock found a mutex held by a preempted owner. */
#include <stdatomic.h>
#include <threads.h>

#include "check.h"
#include "storm.h"

/* C11 calls return thrd_* codes, not error numbers. */
#define CHECK_THRD(expr, expected)                                                        \
  do {                                                                                    \
    int check_thrd_got_ = (expr);                                                         \
    int check_thrd_want_ = (expected);                                                    \
    CHECK_MSG(check_thrd_got_ == check_thrd_want_, "%s returned %d, want %d (%s)", #expr, \
              check_thrd_got_, check_thrd_want_, #expected);                              \
  } while (0)

static struct timespec utc_after(int64_t ns) {
  struct timespec ts;
  CHECK(timespec_get(&ts, TIME_UTC) == TIME_UTC);
  return ns_to_timespec(timespec_to_ns(&ts) + ns);
}

static int64_t utc_now(void) {
  struct timespec ts;
  CHECK(timespec_get(&ts, TIME_UTC) == TIME_UTC);
  return timespec_to_ns(&ts);
}

/* ---- thrd_*: create, join, exit, current, equal, yield, detach ---------------- */

enum { JOINED = 16 };

static thrd_t seen_self[JOINED];
static thrd_t main_thread;

static int return_arg(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  seen_self[idx] = thrd_current();
  CHECK(!thrd_equal(thrd_current(), main_thread));
  thrd_yield();
  CHECK(thrd_equal(thrd_current(), seen_self[idx]));
  CHECK_ON_MAIN_KERNEL_THREAD();
  if (idx % 2) thrd_exit(1000 + idx); /* half leave through thrd_exit */
  return 1000 + idx;
}

static mtx_t detached_lock;
static cnd_t detached_done_cnd;
static int detached_done;

static int detached_body(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  thrd_yield();
  CHECK_THRD(mtx_lock(&detached_lock), thrd_success);
  detached_done++;
  CHECK_THRD(cnd_signal(&detached_done_cnd), thrd_success);
  CHECK_THRD(mtx_unlock(&detached_lock), thrd_success);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}

static void check_thrd(void) {
  main_thread = thrd_current();
  CHECK(thrd_equal(main_thread, thrd_current()));
  thrd_t t[JOINED];
  for (long i = 0; i < JOINED; i++)
    CHECK_THRD(thrd_create(&t[i], return_arg, (void*)i), thrd_success);
  for (int i = JOINED - 1; i >= 0; i--) {
    int res = -1;
    CHECK_THRD(thrd_join(t[i], &res), thrd_success);
    CHECK_MSG(res == 1000 + i, "thread %d: result %d", i, res);
    CHECK_MSG(thrd_equal(t[i], seen_self[i]), "thread %d: thrd_current differs from thrd_create's",
              i);
    if (i > 0) CHECK(!thrd_equal(t[i], t[i - 1]));
  }
  /* Joining without asking for the result. */
  CHECK_THRD(thrd_create(&t[0], return_arg, (void*)0L), thrd_success);
  CHECK_THRD(thrd_join(t[0], NULL), thrd_success);

  /* Detached threads run to completion. */
  CHECK_THRD(mtx_init(&detached_lock, mtx_plain), thrd_success);
  CHECK_THRD(cnd_init(&detached_done_cnd), thrd_success);
  for (int i = 0; i < 3; i++) {
    thrd_t d;
    CHECK_THRD(thrd_create(&d, detached_body, NULL), thrd_success);
    CHECK_THRD(thrd_detach(d), thrd_success);
  }
  CHECK_THRD(mtx_lock(&detached_lock), thrd_success);
  while (detached_done < 3) CHECK_THRD(cnd_wait(&detached_done_cnd, &detached_lock), thrd_success);
  CHECK_THRD(mtx_unlock(&detached_lock), thrd_success);
  cnd_destroy(&detached_done_cnd);
  mtx_destroy(&detached_lock);
}

/* ---- thrd_sleep: at least the duration, and sleepers overlap ------------------------- */

enum { SLEEPERS = 4, SLEEP_MS = 150 };

static int sleeper(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  long ms = (long)arg;
  struct timespec req = ns_to_timespec(ms * NS_PER_MS), rem = {123, 456};
  int64_t start = now_ns();
  int rc = thrd_sleep(&req, &rem);
  int64_t slept = now_ns() - start;
  CHECK_MSG(rc == 0, "thrd_sleep returned %d", rc);
  CHECK_MSG(slept >= ms * NS_PER_MS, "thrd_sleep of %ld ms returned after %.3f ms", ms,
            (double)slept / NS_PER_MS);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}

static double check_sleep(void) {
  CHECK(sleeper((void*)5L) == 0);
  int64_t start = now_ns();
  thrd_t t[SLEEPERS];
  for (long i = 0; i < SLEEPERS; i++)
    CHECK_THRD(thrd_create(&t[i], sleeper, (void*)(long)SLEEP_MS), thrd_success);
  for (int i = 0; i < SLEEPERS; i++) CHECK_THRD(thrd_join(t[i], NULL), thrd_success);
  double wall_ms = (double)(now_ns() - start) / NS_PER_MS;
  /* One after the other they would take SLEEPERS x SLEEP_MS = 600 ms. */
  CHECK_MSG(wall_ms < SLEEP_MS * SLEEPERS - 150,
            "%d concurrent thrd_sleep(%d ms) took %.1f ms: did they sleep one after the other?",
            SLEEPERS, SLEEP_MS, wall_ms);
  return wall_ms;
}

/* ---- mutexes: counter with 8 threads per kind ----------------------------------------- */

enum { COUNTERS = 8, INCREMENTS = 3000, CS_SPIN = 400 };

static mtx_t counter_lock;
static int counter_recursive;
static volatile long counter;
static atomic_long contended;

static void locked_increment(void) {
  int rc = mtx_trylock(&counter_lock);
  if (rc == thrd_busy) {
    atomic_fetch_add(&contended, 1);
    CHECK_THRD(mtx_lock(&counter_lock), thrd_success);
  } else {
    CHECK_THRD(rc, thrd_success);
  }
  if (counter_recursive) CHECK_THRD(mtx_lock(&counter_lock), thrd_success); /* one level more */
  long seen = counter;
  storm_spin(CS_SPIN); /* a timer preemption lands inside the critical section */
  counter = seen + 1;
  if (counter_recursive) CHECK_THRD(mtx_unlock(&counter_lock), thrd_success);
  CHECK_THRD(mtx_unlock(&counter_lock), thrd_success);
}

static int counter_worker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < INCREMENTS; i++) {
    locked_increment();
    storm_spin(CS_SPIN / 8);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}

static void check_counter(int type, const char* name) {
  CHECK_THRD(mtx_init(&counter_lock, type), thrd_success);
  counter_recursive = (type & mtx_recursive) != 0;
  counter = 0;
  thrd_t t[COUNTERS];
  for (int i = 0; i < COUNTERS; i++)
    CHECK_THRD(thrd_create(&t[i], counter_worker, NULL), thrd_success);
  for (int i = 0; i < COUNTERS; i++) CHECK_THRD(thrd_join(t[i], NULL), thrd_success);
  CHECK_MSG(counter == (long)COUNTERS * INCREMENTS, "%s: counter = %ld, want %ld", name, counter,
            (long)COUNTERS * INCREMENTS);
  mtx_destroy(&counter_lock);
}

/* ---- mutexes: trylock, timedlock, recursion ---------------------------------------------- */

typedef int (*mtx_op)(mtx_t*);

struct op_call {
  mtx_op op;
  mtx_t* mutex;
  int result;
};

static int op_thread(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct op_call* call = arg;
  call->result = call->op(call->mutex);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}

static int in_other_thread(mtx_op op, mtx_t* m) {
  struct op_call call = {op, m, -1};
  thrd_t t;
  CHECK_THRD(thrd_create(&t, op_thread, &call), thrd_success);
  CHECK_THRD(thrd_join(t, NULL), thrd_success);
  return call.result;
}

static int trylock_then_unlock(mtx_t* m) {
  int rc = mtx_trylock(m);
  if (rc == thrd_success) CHECK_THRD(mtx_unlock(m), thrd_success);
  return rc;
}

static int timedlock_30ms(mtx_t* m) {
  struct timespec deadline = utc_after(30 * NS_PER_MS);
  int rc = mtx_timedlock(m, &deadline);
  int64_t now = utc_now();
  if (rc == thrd_timedout) {
    CHECK_MSG(now >= timespec_to_ns(&deadline), "mtx_timedlock gave up %.3f ms early",
              (double)(timespec_to_ns(&deadline) - now) / NS_PER_MS);
    CHECK_MSG(now < timespec_to_ns(&deadline) + 2000 * NS_PER_MS,
              "mtx_timedlock gave up %.3f ms late",
              (double)(now - timespec_to_ns(&deadline)) / NS_PER_MS);
  }
  if (rc == thrd_success) CHECK_THRD(mtx_unlock(m), thrd_success);
  return rc;
}

static int timedlock_2s(mtx_t* m) {
  struct timespec deadline = utc_after(2 * NS_PER_S);
  int rc = mtx_timedlock(m, &deadline);
  if (rc == thrd_success) CHECK_THRD(mtx_unlock(m), thrd_success);
  return rc;
}

static void check_mutex_ops(void) {
  mtx_t m;
  /* Plain: not recursive, trylock busy for everyone while held. */
  CHECK_THRD(mtx_init(&m, mtx_plain), thrd_success);
  CHECK_THRD(mtx_lock(&m), thrd_success);
  CHECK_THRD(mtx_trylock(&m), thrd_busy);
  CHECK_THRD(in_other_thread(trylock_then_unlock, &m), thrd_busy);
  CHECK_THRD(mtx_unlock(&m), thrd_success);
  CHECK_THRD(in_other_thread(trylock_then_unlock, &m), thrd_success);
  mtx_destroy(&m);

  /* Timed: times out while held, not early; succeeds when let go in time. */
  CHECK_THRD(mtx_init(&m, mtx_timed), thrd_success);
  CHECK_THRD(mtx_lock(&m), thrd_success);
  CHECK_THRD(in_other_thread(trylock_then_unlock, &m), thrd_busy);
  CHECK_THRD(in_other_thread(timedlock_30ms, &m), thrd_timedout);
  struct op_call call = {timedlock_2s, &m, -1};
  thrd_t t;
  CHECK_THRD(thrd_create(&t, op_thread, &call), thrd_success);
  struct timespec pause = ns_to_timespec(20 * NS_PER_MS);
  CHECK(thrd_sleep(&pause, NULL) == 0);
  CHECK_THRD(mtx_unlock(&m), thrd_success);
  CHECK_THRD(thrd_join(t, NULL), thrd_success);
  CHECK_THRD(call.result, thrd_success);
  CHECK_THRD(in_other_thread(timedlock_30ms, &m), thrd_success); /* free: just locks */
  mtx_destroy(&m);

  /* Recursive (plain and timed): the owner relocks; others wait for the
   * last unlock. */
  const int recursive_types[] = {mtx_plain | mtx_recursive, mtx_timed | mtx_recursive};
  for (int k = 0; k < 2; k++) {
    CHECK_THRD(mtx_init(&m, recursive_types[k]), thrd_success);
    for (int i = 0; i < 3; i++) CHECK_THRD(mtx_lock(&m), thrd_success);
    CHECK_THRD(mtx_trylock(&m), thrd_success);
    CHECK_THRD(in_other_thread(trylock_then_unlock, &m), thrd_busy);
    for (int i = 0; i < 3; i++) CHECK_THRD(mtx_unlock(&m), thrd_success);
    CHECK_THRD(in_other_thread(trylock_then_unlock, &m), thrd_busy); /* one level left */
    if (recursive_types[k] & mtx_timed)
      CHECK_THRD(in_other_thread(timedlock_30ms, &m), thrd_timedout);
    CHECK_THRD(mtx_unlock(&m), thrd_success);
    CHECK_THRD(in_other_thread(trylock_then_unlock, &m), thrd_success);
    mtx_destroy(&m);
  }
}

/* ---- condition variables ------------------------------------------------------------------ */

enum { HANDOFFS = 2000, BROADCAST_WAITERS = 6 };

static mtx_t cv_lock;
static cnd_t cv_filled, cv_emptied;
static int slot_full, slot_value;
static int released, woken;

static int handoff_consumer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  long sum = 0;
  for (int i = 0; i < HANDOFFS; i++) {
    CHECK_THRD(mtx_lock(&cv_lock), thrd_success);
    while (!slot_full) CHECK_THRD(cnd_wait(&cv_filled, &cv_lock), thrd_success);
    CHECK_MSG(slot_value == i, "got item %d, want %d", slot_value, i);
    sum += slot_value;
    slot_full = 0;
    CHECK_THRD(cnd_signal(&cv_emptied), thrd_success);
    CHECK_THRD(mtx_unlock(&cv_lock), thrd_success);
  }
  CHECK(sum == (long)HANDOFFS * (HANDOFFS - 1) / 2);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}

static int broadcast_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_THRD(mtx_lock(&cv_lock), thrd_success);
  while (!released) CHECK_THRD(cnd_wait(&cv_filled, &cv_lock), thrd_success);
  woken++;
  CHECK_THRD(cnd_signal(&cv_emptied), thrd_success);
  CHECK_THRD(mtx_unlock(&cv_lock), thrd_success);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}

static void check_condvars(void) {
  CHECK_THRD(mtx_init(&cv_lock, mtx_plain), thrd_success);
  CHECK_THRD(cnd_init(&cv_filled), thrd_success);
  CHECK_THRD(cnd_init(&cv_emptied), thrd_success);

  /* One-slot hand-off with cnd_signal both ways. */
  thrd_t consumer;
  CHECK_THRD(thrd_create(&consumer, handoff_consumer, NULL), thrd_success);
  for (int i = 0; i < HANDOFFS; i++) {
    CHECK_THRD(mtx_lock(&cv_lock), thrd_success);
    while (slot_full) CHECK_THRD(cnd_wait(&cv_emptied, &cv_lock), thrd_success);
    slot_value = i;
    slot_full = 1;
    CHECK_THRD(cnd_signal(&cv_filled), thrd_success);
    CHECK_THRD(mtx_unlock(&cv_lock), thrd_success);
  }
  CHECK_THRD(thrd_join(consumer, NULL), thrd_success);

  /* cnd_broadcast wakes every waiter. */
  thrd_t waiters[BROADCAST_WAITERS];
  for (int i = 0; i < BROADCAST_WAITERS; i++)
    CHECK_THRD(thrd_create(&waiters[i], broadcast_waiter, NULL), thrd_success);
  struct timespec pause = ns_to_timespec(20 * NS_PER_MS);
  CHECK(thrd_sleep(&pause, NULL) == 0); /* let them wait */
  CHECK_THRD(mtx_lock(&cv_lock), thrd_success);
  released = 1;
  CHECK_THRD(cnd_broadcast(&cv_filled), thrd_success);
  struct timespec deadline = utc_after(2 * NS_PER_S);
  while (woken < BROADCAST_WAITERS) {
    int rc = cnd_timedwait(&cv_emptied, &cv_lock, &deadline);
    CHECK_MSG(rc == thrd_success || woken == BROADCAST_WAITERS,
              "only %d of %d waiters woke from one cnd_broadcast (2 s)", woken, BROADCAST_WAITERS);
  }
  CHECK_THRD(mtx_unlock(&cv_lock), thrd_success);
  for (int i = 0; i < BROADCAST_WAITERS; i++) CHECK_THRD(thrd_join(waiters[i], NULL), thrd_success);

  /* cnd_timedwait with nobody signalling: thrd_timedout, not early, and
   * the mutex held again on return. */
  CHECK_THRD(mtx_lock(&cv_lock), thrd_success);
  deadline = utc_after(30 * NS_PER_MS);
  CHECK_THRD(cnd_timedwait(&cv_filled, &cv_lock, &deadline), thrd_timedout);
  int64_t now = utc_now();
  CHECK_MSG(now >= timespec_to_ns(&deadline), "cnd_timedwait gave up %.3f ms early",
            (double)(timespec_to_ns(&deadline) - now) / NS_PER_MS);
  CHECK_MSG(now < timespec_to_ns(&deadline) + 2000 * NS_PER_MS, "cnd_timedwait gave up %.3f ms late",
            (double)(now - timespec_to_ns(&deadline)) / NS_PER_MS);
  CHECK_THRD(in_other_thread(trylock_then_unlock, &cv_lock), thrd_busy);
  CHECK_THRD(mtx_unlock(&cv_lock), thrd_success);

  cnd_destroy(&cv_filled);
  cnd_destroy(&cv_emptied);
  mtx_destroy(&cv_lock);
}

/* ---- call_once ------------------------------------------------------------------------------ */

enum { ONCE_THREADS = 16 };

static once_flag once = ONCE_FLAG_INIT;
static atomic_int once_runs;
static volatile int once_ready;

static void once_init(void) {
  atomic_fetch_add(&once_runs, 1);
  /* Take a while, so that the other threads arrive while it runs. */
  struct timespec pause = ns_to_timespec(10 * NS_PER_MS);
  CHECK(thrd_sleep(&pause, NULL) == 0);
  once_ready = 1;
}

static int once_caller(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  call_once(&once, once_init);
  CHECK_MSG(once_ready, "call_once returned before the initialisation finished");
  call_once(&once, once_init);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}

static void check_call_once(void) {
  thrd_t t[ONCE_THREADS];
  for (int i = 0; i < ONCE_THREADS; i++)
    CHECK_THRD(thrd_create(&t[i], once_caller, NULL), thrd_success);
  for (int i = 0; i < ONCE_THREADS; i++) CHECK_THRD(thrd_join(t[i], NULL), thrd_success);
  CHECK_MSG(atomic_load(&once_runs) == 1, "call_once ran its function %d times",
            atomic_load(&once_runs));
}

/* ---- tss ------------------------------------------------------------------------------------ */

enum { TSS_THREADS = 8 };

static tss_t key;
static int slots[TSS_THREADS];
static atomic_int destructed[TSS_THREADS]; /* destructor calls per slot */
static atomic_int foreign_destructions;

static void slot_destructor(void* value) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int* slot = value;
  if (slot >= slots && slot < slots + TSS_THREADS)
    atomic_fetch_add(&destructed[slot - slots], 1);
  else
    atomic_fetch_add(&foreign_destructions, 1);
}

static int tss_user(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  CHECK_MSG(tss_get(key) == NULL, "a new thread's tss value is %p", tss_get(key));
  CHECK_THRD(tss_set(key, &slots[idx]), thrd_success);
  for (int i = 0; i < 20; i++) {
    thrd_yield();
    CHECK_MSG(tss_get(key) == &slots[idx], "thread %d's tss value changed to %p", idx,
              tss_get(key));
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  if (idx % 2) thrd_exit(0); /* destructors run on thrd_exit as on return */
  return 0;
}

static void check_tss(void) {
  CHECK_THRD(tss_create(&key, slot_destructor), thrd_success);
  CHECK(tss_get(key) == NULL);
  thrd_t t[TSS_THREADS];
  for (long i = 0; i < TSS_THREADS; i++)
    CHECK_THRD(thrd_create(&t[i], tss_user, (void*)i), thrd_success);
  for (int i = 0; i < TSS_THREADS; i++) {
    CHECK_THRD(thrd_join(t[i], NULL), thrd_success);
    /* Joined: its destructor has run, once, with its value. */
    CHECK_MSG(atomic_load(&destructed[i]) == 1, "thread %d's tss destructor ran %d times", i,
              atomic_load(&destructed[i]));
  }
  CHECK(atomic_load(&foreign_destructions) == 0);
  CHECK(tss_get(key) == NULL); /* main's own value was never set */
  static int main_value;
  CHECK_THRD(tss_set(key, &main_value), thrd_success);
  CHECK(tss_get(key) == &main_value);
  tss_delete(key);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int expect_contention = argc == 2 && strcmp(argv[1], "--expect-contention") == 0;
  CHECK_MSG(argc == 1 || expect_contention, "usage: %s [--expect-contention]", argv[0]);
  int64_t start = now_ns();
  check_thrd();
  double sleep_ms = check_sleep();
  check_counter(mtx_plain, "mtx_plain");
  check_counter(mtx_timed, "mtx_timed");
  check_counter(mtx_plain | mtx_recursive, "mtx_plain|mtx_recursive");
  if (expect_contention)
    CHECK_MSG(atomic_load(&contended) > 0,
              "no mtx_trylock ever found the mutex busy: no preemption inside a critical "
              "section, so the counters proved nothing");
  check_mutex_ops();
  check_condvars();
  check_call_once();
  check_tss();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "c11_threads: thrd create/join/exit/detach/current/equal/yield; %d concurrent "
      "thrd_sleep(%d ms) in %.1f ms; counters exact with mtx_plain, mtx_timed, recursive "
      "(%ld contended locks); trylock/timedlock/recursion; cnd hand-off, broadcast, "
      "timedwait; call_once x%d ran once; tss values and destructors; %.1f ms\n",
      SLEEPERS, SLEEP_MS, sleep_ms, atomic_load(&contended), ONCE_THREADS,
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
