/* Reader-writer locks as glibc defines them: static initialisers, shared
 * readers, exclusive writers under a storm of preemptions, try/timed/clock
 * variants and their error results, EDEADLK for the holding writer, the
 * attribute calls, and writer preference of the PREFER_WRITER_NONRECURSIVE
 * kind against the default reader preference.
 * usage: rwlock [--expect-overlap]
 * --expect-overlap (used with a short timeslice) requires that the storm saw
 * a busy lock (a holder preempted inside its critical section) and readers
 * sharing the lock. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "storm.h"

/* How long a thread that announced it is about to block gets to do so before
 * the test relies on it being blocked. Far more than it needs. */
enum { SETTLE_MS = 50 };

static void wait_flag_then_settle(atomic_int* flag) {
  int64_t give_up = now_ns() + 2 * NS_PER_S;
  while (!atomic_load(flag)) {
    CHECK_MSG(now_ns() < give_up, "a helper thread never started");
    usleep(1000);
  }
  usleep(SETTLE_MS * 1000);
}

/* ---- run one rwlock operation in another thread ---------------------------- */

typedef int (*rw_op)(pthread_rwlock_t*);

struct op_call {
  rw_op op;
  pthread_rwlock_t* lock;
  int result;
};

static void* op_thread(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct op_call* call = arg;
  call->result = call->op(call->lock);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static int in_other_thread(rw_op op, pthread_rwlock_t* lock) {
  struct op_call call = {op, lock, -1};
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, op_thread, &call), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  return call.result;
}

static int tryrd_then_unlock(pthread_rwlock_t* l) {
  int rc = pthread_rwlock_tryrdlock(l);
  if (rc == 0) CHECK_RC(pthread_rwlock_unlock(l), 0);
  return rc;
}

static int trywr_then_unlock(pthread_rwlock_t* l) {
  int rc = pthread_rwlock_trywrlock(l);
  if (rc == 0) CHECK_RC(pthread_rwlock_unlock(l), 0);
  return rc;
}

static int rd_then_unlock(pthread_rwlock_t* l) {
  int rc = pthread_rwlock_rdlock(l);
  if (rc == 0) CHECK_RC(pthread_rwlock_unlock(l), 0);
  return rc;
}

static int wr_then_unlock(pthread_rwlock_t* l) {
  int rc = pthread_rwlock_wrlock(l);
  if (rc == 0) CHECK_RC(pthread_rwlock_unlock(l), 0);
  return rc;
}

/* A timed acquisition (read or write) with a 30 ms deadline on `clock`
 * through the timed (CLOCK_REALTIME) or clock call; ETIMEDOUT must not come
 * before the deadline, nor much after it. */
static int timed_30ms(pthread_rwlock_t* l, int write, int use_clock_call, clockid_t clock) {
  struct timespec deadline = deadline_after(clock, 30 * NS_PER_MS);
  int rc;
  if (use_clock_call)
    rc = write ? pthread_rwlock_clockwrlock(l, clock, &deadline)
               : pthread_rwlock_clockrdlock(l, clock, &deadline);
  else
    rc =
        write ? pthread_rwlock_timedwrlock(l, &deadline) : pthread_rwlock_timedrdlock(l, &deadline);
  int64_t now = clock_ns(clock);
  if (rc == ETIMEDOUT) {
    CHECK_MSG(now >= timespec_to_ns(&deadline), "timed %s lock gave up %.3f ms early",
              write ? "write" : "read", (double)(timespec_to_ns(&deadline) - now) / NS_PER_MS);
    CHECK_MSG(now < timespec_to_ns(&deadline) + 2000 * NS_PER_MS,
              "timed %s lock gave up %.3f ms after its deadline", write ? "write" : "read",
              (double)(now - timespec_to_ns(&deadline)) / NS_PER_MS);
  }
  if (rc == 0) CHECK_RC(pthread_rwlock_unlock(l), 0);
  return rc;
}

static int timedrd_30ms(pthread_rwlock_t* l) { return timed_30ms(l, 0, 0, CLOCK_REALTIME); }
static int timedwr_30ms(pthread_rwlock_t* l) { return timed_30ms(l, 1, 0, CLOCK_REALTIME); }
static int clockrd_mono_30ms(pthread_rwlock_t* l) { return timed_30ms(l, 0, 1, CLOCK_MONOTONIC); }
static int clockwr_mono_30ms(pthread_rwlock_t* l) { return timed_30ms(l, 1, 1, CLOCK_MONOTONIC); }
static int clockrd_real_30ms(pthread_rwlock_t* l) { return timed_30ms(l, 0, 1, CLOCK_REALTIME); }
static int clockwr_real_30ms(pthread_rwlock_t* l) { return timed_30ms(l, 1, 1, CLOCK_REALTIME); }

static int timedrd_bad_nsec(pthread_rwlock_t* l) {
  struct timespec bad = {time(NULL) + 10, 1000000000L};
  return pthread_rwlock_timedrdlock(l, &bad);
}
static int timedwr_bad_nsec(pthread_rwlock_t* l) {
  struct timespec bad = {time(NULL) + 10, 1000000000L};
  return pthread_rwlock_timedwrlock(l, &bad);
}
static int clockrd_bad_nsec(pthread_rwlock_t* l) {
  struct timespec bad = deadline_after(CLOCK_MONOTONIC, 10 * NS_PER_S);
  bad.tv_nsec = 1000000000L;
  return pthread_rwlock_clockrdlock(l, CLOCK_MONOTONIC, &bad);
}
static int clockwr_negative_nsec(pthread_rwlock_t* l) {
  struct timespec bad = deadline_after(CLOCK_MONOTONIC, 10 * NS_PER_S);
  bad.tv_nsec = -1;
  return pthread_rwlock_clockwrlock(l, CLOCK_MONOTONIC, &bad);
}
static int clockrd_cputime(pthread_rwlock_t* l) {
  struct timespec deadline = deadline_after(CLOCK_PROCESS_CPUTIME_ID, 10 * NS_PER_S);
  return pthread_rwlock_clockrdlock(l, CLOCK_PROCESS_CPUTIME_ID, &deadline);
}
static int clockwr_cputime(pthread_rwlock_t* l) {
  struct timespec deadline = deadline_after(CLOCK_PROCESS_CPUTIME_ID, 10 * NS_PER_S);
  return pthread_rwlock_clockwrlock(l, CLOCK_PROCESS_CPUTIME_ID, &deadline);
}

/* Generous deadlines; the holder lets go after 20 ms. */
static int timedrd_2s(pthread_rwlock_t* l) {
  struct timespec deadline = deadline_after(CLOCK_REALTIME, 2 * NS_PER_S);
  int rc = pthread_rwlock_timedrdlock(l, &deadline);
  if (rc == 0) CHECK_RC(pthread_rwlock_unlock(l), 0);
  return rc;
}
static int clockwr_2s(pthread_rwlock_t* l) {
  struct timespec deadline = deadline_after(CLOCK_MONOTONIC, 2 * NS_PER_S);
  int rc = pthread_rwlock_clockwrlock(l, CLOCK_MONOTONIC, &deadline);
  if (rc == 0) CHECK_RC(pthread_rwlock_unlock(l), 0);
  return rc;
}

/* ---- basic use, static initialisers, try variants ----------------------------- */

static pthread_rwlock_t static_default = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t static_writer_pref = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

/* The lock is free on entry and on return. */
static void check_basic(pthread_rwlock_t* l) {
  /* Read-locked (twice, by main): other readers get in, writers do not. */
  CHECK_RC(pthread_rwlock_rdlock(l), 0);
  CHECK_RC(pthread_rwlock_rdlock(l), 0);
  CHECK_RC(in_other_thread(tryrd_then_unlock, l), 0);
  CHECK_RC(in_other_thread(rd_then_unlock, l), 0);
  CHECK_RC(in_other_thread(trywr_then_unlock, l), EBUSY);
  CHECK_RC(pthread_rwlock_trywrlock(l), EBUSY);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  CHECK_RC(in_other_thread(trywr_then_unlock, l), EBUSY); /* one read lock left */
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  CHECK_RC(in_other_thread(trywr_then_unlock, l), 0);

  /* Write-locked: nobody else gets in, in either mode. */
  CHECK_RC(pthread_rwlock_wrlock(l), 0);
  CHECK_RC(in_other_thread(tryrd_then_unlock, l), EBUSY);
  CHECK_RC(in_other_thread(trywr_then_unlock, l), EBUSY);
  CHECK_RC(pthread_rwlock_tryrdlock(l), EBUSY);
  CHECK_RC(pthread_rwlock_trywrlock(l), EBUSY);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  CHECK_RC(in_other_thread(wr_then_unlock, l), 0);

  /* The try variants take a free lock. */
  CHECK_RC(pthread_rwlock_tryrdlock(l), 0);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  CHECK_RC(pthread_rwlock_trywrlock(l), 0);
  CHECK_RC(in_other_thread(tryrd_then_unlock, l), EBUSY);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
}

/* The holding writer relocking: EDEADLK in both modes (glibc). */
static void check_deadlock_errors(pthread_rwlock_t* l) {
  CHECK_RC(pthread_rwlock_wrlock(l), 0);
  CHECK_RC(pthread_rwlock_wrlock(l), EDEADLK);
  CHECK_RC(pthread_rwlock_rdlock(l), EDEADLK);
  struct timespec deadline = deadline_after(CLOCK_REALTIME, NS_PER_S);
  CHECK_RC(pthread_rwlock_timedwrlock(l, &deadline), EDEADLK);
  CHECK_RC(pthread_rwlock_timedrdlock(l, &deadline), EDEADLK);
  deadline = deadline_after(CLOCK_MONOTONIC, NS_PER_S);
  CHECK_RC(pthread_rwlock_clockwrlock(l, CLOCK_MONOTONIC, &deadline), EDEADLK);
  CHECK_RC(pthread_rwlock_clockrdlock(l, CLOCK_MONOTONIC, &deadline), EDEADLK);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  CHECK_RC(in_other_thread(wr_then_unlock, l), 0);
}

/* ---- timed variants ------------------------------------------------------------- */

static void check_timed(pthread_rwlock_t* l) {
  /* Write-locked by main: every timed acquisition times out, not early. */
  CHECK_RC(pthread_rwlock_wrlock(l), 0);
  CHECK_RC(in_other_thread(timedrd_30ms, l), ETIMEDOUT);
  CHECK_RC(in_other_thread(timedwr_30ms, l), ETIMEDOUT);
  CHECK_RC(in_other_thread(clockrd_mono_30ms, l), ETIMEDOUT);
  CHECK_RC(in_other_thread(clockwr_mono_30ms, l), ETIMEDOUT);
  CHECK_RC(in_other_thread(clockrd_real_30ms, l), ETIMEDOUT);
  CHECK_RC(in_other_thread(clockwr_real_30ms, l), ETIMEDOUT);
  /* Malformed timeouts and clocks, where the call would block. */
  CHECK_RC(in_other_thread(timedrd_bad_nsec, l), EINVAL);
  CHECK_RC(in_other_thread(timedwr_bad_nsec, l), EINVAL);
  CHECK_RC(in_other_thread(clockrd_bad_nsec, l), EINVAL);
  CHECK_RC(in_other_thread(clockwr_negative_nsec, l), EINVAL);
  CHECK_RC(in_other_thread(clockrd_cputime, l), EINVAL);
  CHECK_RC(in_other_thread(clockwr_cputime, l), EINVAL);
  CHECK_RC(pthread_rwlock_unlock(l), 0);

  /* Read-locked by main: a timed read lock succeeds at once, a timed write
   * lock times out. */
  CHECK_RC(pthread_rwlock_rdlock(l), 0);
  CHECK_RC(in_other_thread(timedrd_30ms, l), 0);
  CHECK_RC(in_other_thread(clockrd_mono_30ms, l), 0);
  CHECK_RC(in_other_thread(timedwr_30ms, l), ETIMEDOUT);
  CHECK_RC(in_other_thread(clockwr_mono_30ms, l), ETIMEDOUT);
  CHECK_RC(in_other_thread(clockwr_cputime, l), EINVAL);
  CHECK_RC(pthread_rwlock_unlock(l), 0);

  /* The holder lets go while the other thread waits: the timed lock succeeds. */
  struct op_call call = {timedrd_2s, l, -1};
  pthread_t t;
  CHECK_RC(pthread_rwlock_wrlock(l), 0);
  CHECK_RC(pthread_create(&t, NULL, op_thread, &call), 0);
  usleep(20 * 1000);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_RC(call.result, 0);

  call.op = clockwr_2s;
  call.result = -1;
  CHECK_RC(pthread_rwlock_rdlock(l), 0);
  CHECK_RC(pthread_create(&t, NULL, op_thread, &call), 0);
  usleep(20 * 1000);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_RC(call.result, 0);

  /* Uncontended timed locks just lock. */
  struct timespec deadline = deadline_after(CLOCK_REALTIME, NS_PER_S);
  CHECK_RC(pthread_rwlock_timedwrlock(l, &deadline), 0);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  deadline = deadline_after(CLOCK_MONOTONIC, NS_PER_S);
  CHECK_RC(pthread_rwlock_clockrdlock(l, CLOCK_MONOTONIC, &deadline), 0);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
}

/* ---- many readers at once ---------------------------------------------------------- */

enum { SHARING_READERS = 4 };

static pthread_mutex_t sharing_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sharing_changed = PTHREAD_COND_INITIALIZER;
static int sharing_inside;
static int sharing_max;
static int sharing_timed_tried;

/* Each reader keeps its read lock until all readers hold it together. */
static void* sharing_reader(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_rwlock_t* l = arg;
  CHECK_RC(pthread_rwlock_rdlock(l), 0);
  CHECK_RC(pthread_mutex_lock(&sharing_lock), 0);
  sharing_inside++;
  if (sharing_inside > sharing_max) sharing_max = sharing_inside;
  CHECK_RC(pthread_cond_broadcast(&sharing_changed), 0);
  struct timespec deadline = deadline_after(CLOCK_REALTIME, 2 * NS_PER_S);
  while (sharing_max < SHARING_READERS) {
    int rc = pthread_cond_timedwait(&sharing_changed, &sharing_lock, &deadline);
    CHECK_MSG(rc == 0 || (rc == ETIMEDOUT && sharing_max == SHARING_READERS),
              "only %d of %d readers got the read lock together (2 s)", sharing_max,
              SHARING_READERS);
  }
  CHECK_RC(pthread_mutex_unlock(&sharing_lock), 0);
  /* All readers are inside: no writer may enter. The first reader to get
   * here also tries a timed write lock (which gives up). */
  CHECK_RC(in_other_thread(trywr_then_unlock, l), EBUSY);
  CHECK_RC(pthread_mutex_lock(&sharing_lock), 0);
  int first = !sharing_timed_tried;
  sharing_timed_tried = 1;
  CHECK_RC(pthread_mutex_unlock(&sharing_lock), 0);
  if (first) CHECK_RC(in_other_thread(timedwr_30ms, l), ETIMEDOUT);
  CHECK_RC(pthread_mutex_lock(&sharing_lock), 0);
  sharing_inside--;
  CHECK_RC(pthread_mutex_unlock(&sharing_lock), 0);
  CHECK_RC(pthread_rwlock_unlock(l), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_sharing(pthread_rwlock_t* l) {
  sharing_inside = sharing_max = sharing_timed_tried = 0;
  pthread_t t[SHARING_READERS];
  for (int i = 0; i < SHARING_READERS; i++)
    CHECK_RC(pthread_create(&t[i], NULL, sharing_reader, l), 0);
  for (int i = 0; i < SHARING_READERS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK(sharing_max == SHARING_READERS && sharing_inside == 0);
  CHECK_RC(in_other_thread(trywr_then_unlock, l), 0);
}

/* ---- storm: 8 readers, 4 writers ------------------------------------------------------ */

enum { STORM_READERS = 8, STORM_WRITERS = 4, READS = 3000, WRITES = 1500, CS_SPIN = 1500 };

static pthread_rwlock_t storm_lock = PTHREAD_RWLOCK_INITIALIZER;
static volatile long pair_a, pair_b; /* written only under the write lock, always equal */
static atomic_int readers_in, writers_in, max_readers_in;
static atomic_long busy_found; /* try attempts that found the lock taken */
static atomic_long mismatches;

static void* storm_writer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < WRITES; i++) {
    int rc = pthread_rwlock_trywrlock(&storm_lock);
    if (rc == EBUSY) {
      atomic_fetch_add(&busy_found, 1);
      CHECK_RC(pthread_rwlock_wrlock(&storm_lock), 0);
    } else {
      CHECK_RC(rc, 0);
    }
    int w = atomic_fetch_add(&writers_in, 1) + 1;
    int r = atomic_load(&readers_in);
    CHECK_MSG(w == 1 && r == 0, "a writer entered with %d writers and %d readers inside", w - 1, r);
    long a = pair_a;
    storm_spin(CS_SPIN);
    pair_a = a + 1;
    storm_spin(CS_SPIN);
    long b = pair_b;
    pair_b = b + 1;
    atomic_fetch_sub(&writers_in, 1);
    CHECK_RC(pthread_rwlock_unlock(&storm_lock), 0);
    storm_spin(CS_SPIN / 4);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* storm_reader(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < READS; i++) {
    int rc = pthread_rwlock_tryrdlock(&storm_lock);
    if (rc == EBUSY) {
      atomic_fetch_add(&busy_found, 1);
      CHECK_RC(pthread_rwlock_rdlock(&storm_lock), 0);
    } else {
      CHECK_RC(rc, 0);
    }
    int r = atomic_fetch_add(&readers_in, 1) + 1;
    int seen_max = atomic_load(&max_readers_in);
    while (r > seen_max && !atomic_compare_exchange_weak(&max_readers_in, &seen_max, r)) {
    }
    CHECK_MSG(atomic_load(&writers_in) == 0, "a reader is inside with a writer");
    long a = pair_a;
    storm_spin(CS_SPIN);
    long b = pair_b;
    if (a != b) atomic_fetch_add(&mismatches, 1);
    CHECK_MSG(a == b, "a reader saw the pair at %ld/%ld: a writer was inside", a, b);
    atomic_fetch_sub(&readers_in, 1);
    CHECK_RC(pthread_rwlock_unlock(&storm_lock), 0);
    storm_spin(CS_SPIN / 4);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_storm(int expect_overlap) {
  pthread_t readers[STORM_READERS], writers[STORM_WRITERS];
  /* Interleave creation so writers start amid readers. */
  for (int i = 0; i < STORM_READERS; i++) {
    CHECK_RC(pthread_create(&readers[i], NULL, storm_reader, NULL), 0);
    if (i % 2 == 1) CHECK_RC(pthread_create(&writers[i / 2], NULL, storm_writer, NULL), 0);
  }
  for (int i = 0; i < STORM_READERS; i++) CHECK_RC(pthread_join(readers[i], NULL), 0);
  for (int i = 0; i < STORM_WRITERS; i++) CHECK_RC(pthread_join(writers[i], NULL), 0);
  CHECK_MSG(pair_a == (long)STORM_WRITERS * WRITES && pair_b == pair_a,
            "pair = %ld/%ld after %d x %d locked writes", pair_a, pair_b, STORM_WRITERS, WRITES);
  CHECK(atomic_load(&mismatches) == 0);
  if (expect_overlap) {
    CHECK_MSG(atomic_load(&busy_found) > 0,
              "no try ever found the lock busy: no preemption inside a critical section, "
              "so the storm proved nothing");
    CHECK_MSG(atomic_load(&max_readers_in) > 1, "readers never shared the lock in the storm");
  }
}

/* ---- attributes ---------------------------------------------------------------------- */

static void check_attr(void) {
  pthread_rwlockattr_t attr;
  int kind = -1, pshared = -1;
  CHECK_RC(pthread_rwlockattr_init(&attr), 0);
  CHECK_RC(pthread_rwlockattr_getkind_np(&attr, &kind), 0);
  CHECK_MSG(kind == PTHREAD_RWLOCK_PREFER_READER_NP, "default kind %d", kind);
  const int kinds[] = {PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP,
                       PTHREAD_RWLOCK_PREFER_WRITER_NP, PTHREAD_RWLOCK_PREFER_READER_NP,
                       PTHREAD_RWLOCK_DEFAULT_NP};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    CHECK_RC(pthread_rwlockattr_setkind_np(&attr, kinds[i]), 0);
    CHECK_RC(pthread_rwlockattr_getkind_np(&attr, &kind), 0);
    CHECK_MSG(kind == kinds[i], "setkind %d, getkind %d", kinds[i], kind);
  }
  CHECK_RC(pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP), 0);
  CHECK_RC(pthread_rwlockattr_setkind_np(&attr, 12345), EINVAL);
  CHECK_RC(pthread_rwlockattr_setkind_np(&attr, -1), EINVAL);
  CHECK_RC(pthread_rwlockattr_getkind_np(&attr, &kind), 0);
  CHECK_MSG(kind == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, "kind %d after a refused setkind",
            kind);

  CHECK_RC(pthread_rwlockattr_getpshared(&attr, &pshared), 0);
  CHECK_MSG(pshared == PTHREAD_PROCESS_PRIVATE, "default pshared %d", pshared);
  CHECK_RC(pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), 0);
  CHECK_RC(pthread_rwlockattr_getpshared(&attr, &pshared), 0);
  CHECK(pshared == PTHREAD_PROCESS_SHARED);
  CHECK_RC(pthread_rwlockattr_setpshared(&attr, 12345), EINVAL);
  CHECK_RC(pthread_rwlockattr_getpshared(&attr, &pshared), 0);
  CHECK(pshared == PTHREAD_PROCESS_SHARED);
  CHECK_RC(pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_PRIVATE), 0);
  CHECK_RC(pthread_rwlockattr_getpshared(&attr, &pshared), 0);
  CHECK(pshared == PTHREAD_PROCESS_PRIVATE);

  /* A lock made from the attribute works. */
  pthread_rwlock_t l;
  CHECK_RC(pthread_rwlock_init(&l, &attr), 0);
  CHECK_RC(pthread_rwlockattr_destroy(&attr), 0);
  check_basic(&l);
  CHECK_RC(pthread_rwlock_destroy(&l), 0);
}

/* ---- writer preference ------------------------------------------------------------------ */

struct pref_run {
  pthread_rwlock_t* lock;
  atomic_int writer_started, reader_started;
  int reader_try; /* R2's tryrdlock result */
  pthread_mutex_t order_lock;
  char order[8]; /* W: writer got it, w: writer let go, T: R2's try got it, R: R2's rdlock got it */
  int n;
};

static void record(struct pref_run* p, char c) {
  CHECK_RC(pthread_mutex_lock(&p->order_lock), 0);
  CHECK(p->n < (int)sizeof p->order - 1);
  p->order[p->n++] = c;
  p->order[p->n] = '\0';
  CHECK_RC(pthread_mutex_unlock(&p->order_lock), 0);
}

static int recorded(struct pref_run* p) {
  CHECK_RC(pthread_mutex_lock(&p->order_lock), 0);
  int n = p->n;
  CHECK_RC(pthread_mutex_unlock(&p->order_lock), 0);
  return n;
}

static void* pref_writer(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct pref_run* p = arg;
  atomic_store(&p->writer_started, 1);
  CHECK_RC(pthread_rwlock_wrlock(p->lock), 0);
  record(p, 'W');
  usleep(10 * 1000);
  record(p, 'w');
  CHECK_RC(pthread_rwlock_unlock(p->lock), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* pref_reader(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct pref_run* p = arg;
  p->reader_try = pthread_rwlock_tryrdlock(p->lock);
  if (p->reader_try == 0) {
    record(p, 'T');
    CHECK_RC(pthread_rwlock_unlock(p->lock), 0);
  }
  atomic_store(&p->reader_started, 1);
  CHECK_RC(pthread_rwlock_rdlock(p->lock), 0);
  record(p, 'R');
  CHECK_RC(pthread_rwlock_unlock(p->lock), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* Main (R1) holds a read lock; writer W blocks; then a new reader R2 comes. */
static void check_preference(pthread_rwlock_t* l, int writer_preferred, const char* what) {
  struct pref_run p = {.lock = l, .reader_try = -1, .order_lock = PTHREAD_MUTEX_INITIALIZER};
  pthread_t w, r2;
  CHECK_RC(pthread_rwlock_rdlock(l), 0);
  CHECK_RC(pthread_create(&w, NULL, pref_writer, &p), 0);
  wait_flag_then_settle(&p.writer_started);
  CHECK_MSG(recorded(&p) == 0, "%s: the writer got the lock while a reader held it", what);
  CHECK_RC(pthread_create(&r2, NULL, pref_reader, &p), 0);
  wait_flag_then_settle(&p.reader_started);
  if (writer_preferred) {
    CHECK_MSG(p.reader_try == EBUSY,
              "%s: a new reader's tryrdlock returned %d (%s) while a writer waited, want EBUSY",
              what, p.reader_try, strerror(p.reader_try));
    CHECK_MSG(recorded(&p) == 0, "%s: order '%s' before the first reader let go", what, p.order);
    CHECK_RC(pthread_rwlock_unlock(l), 0);
    CHECK_RC(pthread_join(w, NULL), 0);
    CHECK_RC(pthread_join(r2, NULL), 0);
    CHECK_MSG(strcmp(p.order, "WwR") == 0,
              "%s: order '%s', want 'WwR' (the waiting writer before the new reader)", what,
              p.order);
  } else {
    /* Readers preferred: R2 gets in past the waiting writer, both ways. */
    CHECK_MSG(p.reader_try == 0, "%s: a new reader's tryrdlock returned %d (%s), want 0", what,
              p.reader_try, strerror(p.reader_try));
    CHECK_RC(pthread_join(r2, NULL), 0);
    CHECK_MSG(strcmp(p.order, "TR") == 0, "%s: order '%s' while the first reader held, want 'TR'",
              what, p.order);
    CHECK_RC(pthread_rwlock_unlock(l), 0);
    CHECK_RC(pthread_join(w, NULL), 0);
    CHECK_MSG(strcmp(p.order, "TRWw") == 0, "%s: order '%s', want 'TRWw'", what, p.order);
  }
}

static void init_kind(pthread_rwlock_t* l, int kind) {
  pthread_rwlockattr_t attr;
  CHECK_RC(pthread_rwlockattr_init(&attr), 0);
  CHECK_RC(pthread_rwlockattr_setkind_np(&attr, kind), 0);
  CHECK_RC(pthread_rwlock_init(l, &attr), 0);
  CHECK_RC(pthread_rwlockattr_destroy(&attr), 0);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int expect_overlap = argc == 2 && strcmp(argv[1], "--expect-overlap") == 0;
  CHECK_MSG(argc == 1 || expect_overlap, "usage: %s [--expect-overlap]", argv[0]);
  int64_t start = now_ns();

  pthread_rwlock_t l;
  CHECK_RC(pthread_rwlock_init(&l, NULL), 0);
  check_basic(&l);
  check_deadlock_errors(&l);
  check_timed(&l);
  check_sharing(&l);
  CHECK_RC(pthread_rwlock_destroy(&l), 0);

  check_basic(&static_default);
  check_deadlock_errors(&static_default);
  check_basic(&static_writer_pref);
  check_deadlock_errors(&static_writer_pref);
  check_sharing(&static_writer_pref);

  check_attr();

  check_preference(&static_default, 0, "PTHREAD_RWLOCK_INITIALIZER");
  check_preference(&static_writer_pref, 1, "PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP");
  CHECK_RC(pthread_rwlock_init(&l, NULL), 0);
  check_preference(&l, 0, "default attributes");
  CHECK_RC(pthread_rwlock_destroy(&l), 0);
  init_kind(&l, PTHREAD_RWLOCK_PREFER_READER_NP);
  check_preference(&l, 0, "PREFER_READER_NP");
  CHECK_RC(pthread_rwlock_destroy(&l), 0);
  init_kind(&l, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  check_preference(&l, 1, "PREFER_WRITER_NONRECURSIVE_NP");
  check_basic(&l);
  CHECK_RC(pthread_rwlock_destroy(&l), 0);

  int64_t storm_start = now_ns();
  check_storm(expect_overlap);
  int64_t end = now_ns();

  CHECK_ONE_KERNEL_THREAD();
  printf(
      "rwlock: static/attr initialisers; shared readers (%d at once), exclusive writers; "
      "try EBUSY, timed/clock ETIMEDOUT not early, EINVAL, EDEADLK; attr kinds/pshared; "
      "writer preference vs reader preference; storm %dR+%dW: pair %ld/%ld exact, "
      "%ld busy tries, up to %d readers inside, %.1f ms (total %.1f ms)\n",
      SHARING_READERS, STORM_READERS, STORM_WRITERS, pair_a, pair_b, atomic_load(&busy_found),
      atomic_load(&max_readers_in), (double)(end - storm_start) / NS_PER_MS,
      (double)(end - start) / NS_PER_MS);
  return 0;
}
