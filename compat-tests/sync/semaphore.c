/* POSIX semaphores. Unnamed: sem_init limits, a bounded buffer of two
 * semaphores and a mutex (4 producers, 4 consumers, 20,000 items, each
 * consumed once), sem_wait woken by sem_post (10,000 ping-pong rounds),
 * trywait/timedwait/clockwait results, getvalue, EOVERFLOW at SEM_VALUE_MAX,
 * destroy. Named: sem_open between two threads of this process (1,000 round
 * trips), sem_close, sem_unlink. */
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include "check.h"
#include "storm.h"

/* sem_* report errors through errno with -1. */
#define CHECK_SEM_FAILS(expr, expected_errno)                                                \
  do {                                                                                       \
    errno = 0;                                                                               \
    int check_sem_rc_ = (expr);                                                              \
    int check_sem_errno_ = errno;                                                            \
    CHECK_MSG(check_sem_rc_ == -1 && check_sem_errno_ == (expected_errno),                   \
              "%s returned %d, errno %d (%s); want -1, errno %d (%s)", #expr, check_sem_rc_, \
              check_sem_errno_, strerror(check_sem_errno_), (expected_errno),                \
              strerror(expected_errno));                                                     \
  } while (0)

#define CHECK_SEM_OK(expr)                                                                      \
  do {                                                                                          \
    errno = 0;                                                                                  \
    int check_sem_rc_ = (expr);                                                                 \
    CHECK_MSG(check_sem_rc_ == 0, "%s returned %d, errno %d (%s)", #expr, check_sem_rc_, errno, \
              strerror(errno));                                                                 \
  } while (0)

static int value_of(sem_t* s) {
  int v = -12345;
  CHECK_SEM_OK(sem_getvalue(s, &v));
  return v;
}

/* ---- single-thread results ----------------------------------------------------- */

static void check_timeout(sem_t* s, clockid_t clock, int use_clockwait) {
  struct timespec deadline = deadline_after(clock, 30 * NS_PER_MS);
  if (use_clockwait)
    CHECK_SEM_FAILS(sem_clockwait(s, clock, &deadline), ETIMEDOUT);
  else
    CHECK_SEM_FAILS(sem_timedwait(s, &deadline), ETIMEDOUT);
  int64_t now = clock_ns(clock);
  CHECK_MSG(now >= timespec_to_ns(&deadline), "%s gave up %.3f ms early",
            use_clockwait ? "sem_clockwait" : "sem_timedwait",
            (double)(timespec_to_ns(&deadline) - now) / NS_PER_MS);
  CHECK_MSG(now < timespec_to_ns(&deadline) + 2000 * NS_PER_MS, "%s gave up %.3f ms late",
            use_clockwait ? "sem_clockwait" : "sem_timedwait",
            (double)(now - timespec_to_ns(&deadline)) / NS_PER_MS);
}

static void check_basic(void) {
  sem_t s;
  CHECK_SEM_FAILS(sem_init(&s, 0, (unsigned)SEM_VALUE_MAX + 1u), EINVAL);
  CHECK_SEM_FAILS(sem_init(&s, 0, UINT_MAX), EINVAL);

  CHECK_SEM_OK(sem_init(&s, 0, 0));
  CHECK(value_of(&s) == 0);
  CHECK_SEM_FAILS(sem_trywait(&s), EAGAIN);
  CHECK_SEM_OK(sem_post(&s));
  CHECK_SEM_OK(sem_post(&s));
  CHECK(value_of(&s) == 2);
  CHECK_SEM_OK(sem_trywait(&s));
  CHECK_SEM_OK(sem_wait(&s));
  CHECK(value_of(&s) == 0);
  CHECK_SEM_FAILS(sem_trywait(&s), EAGAIN);

  /* Timed waits at 0 time out, not early, on both calls and clocks. */
  check_timeout(&s, CLOCK_REALTIME, 0);
  check_timeout(&s, CLOCK_MONOTONIC, 1);
  check_timeout(&s, CLOCK_REALTIME, 1);
  /* Malformed timeouts and clocks, where the call would block. */
  struct timespec bad = {time(NULL) + 10, 1000000000L};
  CHECK_SEM_FAILS(sem_timedwait(&s, &bad), EINVAL);
  bad.tv_nsec = -1;
  CHECK_SEM_FAILS(sem_timedwait(&s, &bad), EINVAL);
  bad = deadline_after(CLOCK_MONOTONIC, 10 * NS_PER_S);
  bad.tv_nsec = 1000000000L;
  CHECK_SEM_FAILS(sem_clockwait(&s, CLOCK_MONOTONIC, &bad), EINVAL);
  struct timespec later = deadline_after(CLOCK_PROCESS_CPUTIME_ID, 10 * NS_PER_S);
  CHECK_SEM_FAILS(sem_clockwait(&s, CLOCK_PROCESS_CPUTIME_ID, &later), EINVAL);
  CHECK(value_of(&s) == 0);

  /* With a unit available the timed waits take it at once, even with a
   * deadline already past. */
  struct timespec past = {1, 0};
  CHECK_SEM_OK(sem_post(&s));
  CHECK_SEM_OK(sem_timedwait(&s, &past));
  CHECK_SEM_OK(sem_post(&s));
  CHECK_SEM_OK(sem_clockwait(&s, CLOCK_MONOTONIC, &past));
  CHECK(value_of(&s) == 0);
  CHECK_SEM_OK(sem_destroy(&s));

  /* The top of the range: one more post overflows and changes nothing. */
  CHECK_SEM_OK(sem_init(&s, 0, SEM_VALUE_MAX));
  CHECK(value_of(&s) == SEM_VALUE_MAX);
  CHECK_SEM_FAILS(sem_post(&s), EOVERFLOW);
  CHECK(value_of(&s) == SEM_VALUE_MAX);
  CHECK_SEM_OK(sem_trywait(&s));
  CHECK(value_of(&s) == SEM_VALUE_MAX - 1);
  CHECK_SEM_OK(sem_post(&s));
  CHECK_SEM_FAILS(sem_post(&s), EOVERFLOW);
  CHECK_SEM_OK(sem_destroy(&s));

  /* pshared = 1 is accepted (glibc supports process-shared semaphores). */
  CHECK_SEM_OK(sem_init(&s, 1, 3));
  CHECK(value_of(&s) == 3);
  CHECK_SEM_OK(sem_destroy(&s));
}

/* ---- waiters woken by posts from other threads -------------------------------------- */

struct timed_waiter {
  sem_t* sem;
  int use_clockwait;
  int rc, err;
  atomic_int started;
};

static void* timed_waiter_body(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct timed_waiter* w = arg;
  atomic_store(&w->started, 1);
  errno = 0;
  if (w->use_clockwait) {
    struct timespec deadline = deadline_after(CLOCK_MONOTONIC, 2 * NS_PER_S);
    w->rc = sem_clockwait(w->sem, CLOCK_MONOTONIC, &deadline);
  } else {
    struct timespec deadline = deadline_after(CLOCK_REALTIME, 2 * NS_PER_S);
    w->rc = sem_timedwait(w->sem, &deadline);
  }
  w->err = errno;
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* plain_waiter_body(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_SEM_OK(sem_wait((sem_t*)arg));
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_posted_waiters(void) {
  sem_t s;
  CHECK_SEM_OK(sem_init(&s, 0, 0));
  for (int use_clockwait = 0; use_clockwait < 2; use_clockwait++) {
    struct timed_waiter w = {.sem = &s, .use_clockwait = use_clockwait, .rc = -2};
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, timed_waiter_body, &w), 0);
    while (!atomic_load(&w.started)) usleep(1000);
    usleep(20 * 1000); /* let it block */
    CHECK_SEM_OK(sem_post(&s));
    CHECK_RC(pthread_join(t, NULL), 0);
    CHECK_MSG(w.rc == 0, "a %s woken by sem_post returned %d, errno %d (%s)",
              use_clockwait ? "sem_clockwait" : "sem_timedwait", w.rc, w.err, strerror(w.err));
    CHECK(value_of(&s) == 0);
  }
  /* Three blocked waiters, three posts: all wake, nothing left over. */
  pthread_t t[3];
  for (int i = 0; i < 3; i++) CHECK_RC(pthread_create(&t[i], NULL, plain_waiter_body, &s), 0);
  usleep(20 * 1000);
  for (int i = 0; i < 3; i++) CHECK_SEM_OK(sem_post(&s));
  for (int i = 0; i < 3; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK(value_of(&s) == 0);
  CHECK_SEM_OK(sem_destroy(&s));
}

/* ---- ping-pong through two semaphores --------------------------------------------- */

struct pingpong {
  sem_t* mine;
  sem_t* theirs;
  int rounds;
  int first; /* posts before its first wait */
  volatile int* turn;
  int me;
};

static void* pingpong_body(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct pingpong* p = arg;
  for (int i = 0; i < p->rounds; i++) {
    if (!(p->first && i == 0)) CHECK_SEM_OK(sem_wait(p->mine));
    CHECK_MSG(*p->turn == p->me, "round %d: woke on the other side's turn", i);
    *p->turn = !p->me;
    CHECK_SEM_OK(sem_post(p->theirs));
  }
  if (p->first) CHECK_SEM_OK(sem_wait(p->mine)); /* the other side's last post */
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* A starts; each side waits for its own semaphore and posts the other's. */
static void run_pingpong(sem_t* a, sem_t* b, int rounds) {
  volatile int turn = 0;
  struct pingpong pa = {a, b, rounds, 1, &turn, 0};
  struct pingpong pb = {b, a, rounds, 0, &turn, 1};
  pthread_t ta, tb;
  /* B first, so that it blocks in sem_wait before A posts. */
  CHECK_RC(pthread_create(&tb, NULL, pingpong_body, &pb), 0);
  CHECK_RC(pthread_create(&ta, NULL, pingpong_body, &pa), 0);
  CHECK_RC(pthread_join(ta, NULL), 0);
  CHECK_RC(pthread_join(tb, NULL), 0);
  CHECK(value_of(a) == 0 && value_of(b) == 0);
}

enum { PINGPONG_ROUNDS = 10000, NAMED_ROUNDS = 1000 };

static void check_pingpong(void) {
  sem_t a, b;
  CHECK_SEM_OK(sem_init(&a, 0, 0));
  CHECK_SEM_OK(sem_init(&b, 0, 0));
  run_pingpong(&a, &b, PINGPONG_ROUNDS);
  CHECK_SEM_OK(sem_destroy(&a));
  CHECK_SEM_OK(sem_destroy(&b));
}

/* ---- bounded buffer: 4 producers, 4 consumers ------------------------------------- */

enum { PRODUCERS = 4, CONSUMERS = 4, ITEMS = 20000, SLOTS = 16 };

static sem_t free_slots, filled_slots;
static pthread_mutex_t buffer_lock = PTHREAD_MUTEX_INITIALIZER;
static int buffer[SLOTS];
static int buffer_head, buffer_count;
static unsigned char consumed[ITEMS];
static int per_consumer[CONSUMERS];

static void* producer(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int p = (int)(long)arg;
  for (int i = p; i < ITEMS; i += PRODUCERS) {
    CHECK_SEM_OK(sem_wait(&free_slots));
    CHECK_RC(pthread_mutex_lock(&buffer_lock), 0);
    CHECK_MSG(buffer_count < SLOTS, "a producer got a free slot of a full buffer");
    buffer[(buffer_head + buffer_count) % SLOTS] = i;
    storm_spin(200); /* preemption inside the critical section */
    buffer_count++;
    CHECK_RC(pthread_mutex_unlock(&buffer_lock), 0);
    CHECK_SEM_OK(sem_post(&filled_slots));
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* consumer(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int c = (int)(long)arg;
  for (int i = 0; i < ITEMS / CONSUMERS; i++) {
    CHECK_SEM_OK(sem_wait(&filled_slots));
    CHECK_RC(pthread_mutex_lock(&buffer_lock), 0);
    CHECK_MSG(buffer_count > 0, "a consumer got a filled slot of an empty buffer");
    int item = buffer[buffer_head];
    storm_spin(200);
    buffer_head = (buffer_head + 1) % SLOTS;
    buffer_count--;
    CHECK_MSG(item >= 0 && item < ITEMS, "item %d", item);
    consumed[item]++;
    per_consumer[c]++;
    CHECK_RC(pthread_mutex_unlock(&buffer_lock), 0);
    CHECK_SEM_OK(sem_post(&free_slots));
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_bounded_buffer(void) {
  CHECK_SEM_OK(sem_init(&free_slots, 0, SLOTS));
  CHECK_SEM_OK(sem_init(&filled_slots, 0, 0));
  pthread_t p[PRODUCERS], c[CONSUMERS];
  for (long i = 0; i < CONSUMERS; i++) CHECK_RC(pthread_create(&c[i], NULL, consumer, (void*)i), 0);
  for (long i = 0; i < PRODUCERS; i++) CHECK_RC(pthread_create(&p[i], NULL, producer, (void*)i), 0);
  for (int i = 0; i < PRODUCERS; i++) CHECK_RC(pthread_join(p[i], NULL), 0);
  for (int i = 0; i < CONSUMERS; i++) CHECK_RC(pthread_join(c[i], NULL), 0);
  for (int i = 0; i < ITEMS; i++)
    CHECK_MSG(consumed[i] == 1, "item %d consumed %d times", i, consumed[i]);
  for (int i = 0; i < CONSUMERS; i++) CHECK(per_consumer[i] == ITEMS / CONSUMERS);
  CHECK(buffer_count == 0);
  CHECK(value_of(&free_slots) == SLOTS && value_of(&filled_slots) == 0);
  CHECK_SEM_OK(sem_destroy(&free_slots));
  CHECK_SEM_OK(sem_destroy(&filled_slots));
}

/* ---- named semaphores ----------------------------------------------------------------- */

static char name_a[64], name_b[64];

static void unlink_names(void) {
  /* A failed run leaves nothing behind in /dev/shm. */
  if (name_a[0]) sem_unlink(name_a);
  if (name_b[0]) sem_unlink(name_b);
}

static void check_named(void) {
  snprintf(name_a, sizeof name_a, "/ptshim-test-%ld", (long)getpid());
  snprintf(name_b, sizeof name_b, "/ptshim-test-%ld-b", (long)getpid());
  atexit(unlink_names);
  sem_t* a = sem_open(name_a, O_CREAT | O_EXCL, 0600, 0);
  CHECK_MSG(a != SEM_FAILED, "sem_open(%s, O_CREAT|O_EXCL): %s", name_a, strerror(errno));
  sem_t* b = sem_open(name_b, O_CREAT | O_EXCL, 0600, 0);
  CHECK_MSG(b != SEM_FAILED, "sem_open(%s, O_CREAT|O_EXCL): %s", name_b, strerror(errno));
  errno = 0;
  CHECK(sem_open(name_a, O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED && errno == EEXIST);
  /* Opening it again without O_CREAT: the same semaphore. */
  sem_t* a2 = sem_open(name_a, 0);
  CHECK_MSG(a2 != SEM_FAILED, "sem_open(%s, 0): %s", name_a, strerror(errno));
  CHECK(value_of(a) == 0);
  CHECK_SEM_OK(sem_post(a2));
  CHECK(value_of(a) == 1);
  CHECK_SEM_OK(sem_trywait(a));
  CHECK_SEM_FAILS(sem_trywait(a2), EAGAIN);
  struct timespec deadline = deadline_after(CLOCK_REALTIME, 20 * NS_PER_MS);
  CHECK_SEM_FAILS(sem_timedwait(a, &deadline), ETIMEDOUT);
  CHECK(clock_ns(CLOCK_REALTIME) >= timespec_to_ns(&deadline));

  run_pingpong(a, b, NAMED_ROUNDS);

  CHECK_SEM_OK(sem_close(a2));
  CHECK_SEM_OK(sem_close(a));
  CHECK_SEM_OK(sem_close(b));
  CHECK_SEM_OK(sem_unlink(name_a));
  CHECK_SEM_OK(sem_unlink(name_b));
  CHECK_SEM_FAILS(sem_unlink(name_a), ENOENT);
  errno = 0;
  CHECK(sem_open(name_a, 0) == SEM_FAILED && errno == ENOENT);
  name_a[0] = name_b[0] = '\0';
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  check_basic();
  check_posted_waiters();
  check_pingpong();
  check_bounded_buffer();
  check_named();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "semaphore: init/getvalue/trywait EAGAIN/timedwait+clockwait ETIMEDOUT not early and "
      "EINVAL/post EOVERFLOW/destroy; blocked waiters woken by posts; %d ping-pong rounds; "
      "bounded buffer %dx%d, %d items each consumed once; named semaphores %d round trips, "
      "close, unlink; %.1f ms\n",
      PINGPONG_ROUNDS, PRODUCERS, CONSUMERS, ITEMS, NAMED_ROUNDS,
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
