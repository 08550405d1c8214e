/* Mutex types and their error results, trylock, timed locks, mutex
 * attributes and destroy, as glibc defines them. Main owns the mutex; the
 * "other thread" checks run one operation in a fresh thread and join it. */
#include <pthread.h>

#include "check.h"

/* ---- run one mutex operation in another thread ----------------------------- */

typedef int (*mutex_op)(pthread_mutex_t*);

struct op_call {
  mutex_op op;
  pthread_mutex_t* mutex;
  int result;
};

static void* op_thread(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct op_call* call = arg;
  call->result = call->op(call->mutex);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static int in_other_thread(mutex_op op, pthread_mutex_t* mutex) {
  struct op_call call = {op, mutex, -1};
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, op_thread, &call), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  return call.result;
}

static int lock_then_unlock(pthread_mutex_t* m) {
  int rc = pthread_mutex_lock(m);
  if (rc == 0) CHECK_RC(pthread_mutex_unlock(m), 0);
  return rc;
}

/* Times out after 30 ms (the caller holds the mutex), not earlier. */
static int timedlock_30ms(pthread_mutex_t* m) {
  struct timespec deadline = deadline_after(CLOCK_REALTIME, 30 * NS_PER_MS);
  int rc = pthread_mutex_timedlock(m, &deadline);
  int64_t now = clock_ns(CLOCK_REALTIME);
  if (rc == ETIMEDOUT)
    CHECK_MSG(now >= timespec_to_ns(&deadline), "timedlock gave up %.3f ms early",
              (double)(timespec_to_ns(&deadline) - now) / NS_PER_MS);
  return rc;
}

static int clocklock_30ms(pthread_mutex_t* m) {
  struct timespec deadline = deadline_after(CLOCK_MONOTONIC, 30 * NS_PER_MS);
  int rc = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &deadline);
  int64_t now = clock_ns(CLOCK_MONOTONIC);
  if (rc == ETIMEDOUT)
    CHECK_MSG(now >= timespec_to_ns(&deadline), "clocklock gave up %.3f ms early",
              (double)(timespec_to_ns(&deadline) - now) / NS_PER_MS);
  return rc;
}

static int timedlock_bad_nsec(pthread_mutex_t* m) {
  struct timespec bad = {time(NULL) + 10, 1000000000L};
  return pthread_mutex_timedlock(m, &bad);
}

/* Generous deadline; the owner unlocks after 20 ms. */
static int timedlock_2s_then_unlock(pthread_mutex_t* m) {
  struct timespec deadline = deadline_after(CLOCK_REALTIME, 2 * NS_PER_S);
  int rc = pthread_mutex_timedlock(m, &deadline);
  if (rc == 0) CHECK_RC(pthread_mutex_unlock(m), 0);
  return rc;
}

/* ---- the mutex types -------------------------------------------------------- */

static pthread_mutex_t static_recursive = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t static_errorcheck = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_mutex_t static_normal = PTHREAD_MUTEX_INITIALIZER;

static void init_with_type(pthread_mutex_t* m, int type) {
  pthread_mutexattr_t attr;
  CHECK_RC(pthread_mutexattr_init(&attr), 0);
  CHECK_RC(pthread_mutexattr_settype(&attr, type), 0);
  CHECK_RC(pthread_mutex_init(m, &attr), 0);
  CHECK_RC(pthread_mutexattr_destroy(&attr), 0);
}

static void check_recursive(pthread_mutex_t* m) {
  for (int i = 0; i < 3; i++) CHECK_RC(pthread_mutex_lock(m), 0);
  CHECK_RC(pthread_mutex_trylock(m), 0); /* owner: one more level */
  CHECK_RC(in_other_thread(pthread_mutex_trylock, m), EBUSY);
  CHECK_RC(in_other_thread(pthread_mutex_unlock, m), EPERM);
  for (int i = 0; i < 3; i++) CHECK_RC(pthread_mutex_unlock(m), 0);
  CHECK_RC(in_other_thread(pthread_mutex_trylock, m), EBUSY); /* one level left */
  CHECK_RC(pthread_mutex_unlock(m), 0);
  CHECK_RC(pthread_mutex_unlock(m), EPERM); /* not locked any more */
  CHECK_RC(in_other_thread(lock_then_unlock, m), 0);
}

static void check_errorcheck(pthread_mutex_t* m) {
  CHECK_RC(pthread_mutex_lock(m), 0);
  CHECK_RC(pthread_mutex_lock(m), EDEADLK);
  CHECK_RC(pthread_mutex_trylock(m), EBUSY);
  CHECK_RC(in_other_thread(pthread_mutex_unlock, m), EPERM);
  CHECK_RC(in_other_thread(pthread_mutex_trylock, m), EBUSY);
  struct timespec deadline = deadline_after(CLOCK_REALTIME, NS_PER_S);
  CHECK_RC(pthread_mutex_timedlock(m, &deadline), EDEADLK);
  CHECK_RC(pthread_mutex_unlock(m), 0);
  CHECK_RC(pthread_mutex_unlock(m), EPERM);
  CHECK_RC(in_other_thread(lock_then_unlock, m), 0);
}

/* NORMAL and DEFAULT: plain exclusion (relocking would deadlock: not tried). */
static void check_plain(pthread_mutex_t* m) {
  CHECK_RC(pthread_mutex_lock(m), 0);
  CHECK_RC(pthread_mutex_trylock(m), EBUSY);
  CHECK_RC(in_other_thread(pthread_mutex_trylock, m), EBUSY);
  CHECK_RC(pthread_mutex_unlock(m), 0);
  CHECK_RC(in_other_thread(lock_then_unlock, m), 0);
  CHECK_RC(pthread_mutex_trylock(m), 0);
  CHECK_RC(pthread_mutex_unlock(m), 0);
}

/* ---- timed locks -------------------------------------------------------------- */

static void check_timed(pthread_mutex_t* m) {
  CHECK_RC(pthread_mutex_lock(m), 0);
  CHECK_RC(in_other_thread(timedlock_30ms, m), ETIMEDOUT);
  CHECK_RC(in_other_thread(clocklock_30ms, m), ETIMEDOUT);
  CHECK_RC(in_other_thread(timedlock_bad_nsec, m), EINVAL);

  /* The owner lets go while the other thread waits: the timed lock succeeds. */
  struct op_call call = {timedlock_2s_then_unlock, m, -1};
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, op_thread, &call), 0);
  usleep(20 * 1000);
  CHECK_RC(pthread_mutex_unlock(m), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_RC(call.result, 0);

  /* Uncontended timed locks just lock. */
  struct timespec deadline = deadline_after(CLOCK_MONOTONIC, NS_PER_S);
  CHECK_RC(pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &deadline), 0);
  CHECK_RC(pthread_mutex_unlock(m), 0);
}

/* ---- attributes and destroy ----------------------------------------------------- */

static void check_attr_types(void) {
  pthread_mutexattr_t attr;
  int type;
  CHECK_RC(pthread_mutexattr_init(&attr), 0);
  CHECK_RC(pthread_mutexattr_gettype(&attr, &type), 0);
  CHECK_MSG(type == PTHREAD_MUTEX_DEFAULT, "default type %d", type);
  const int types[] = {PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE, PTHREAD_MUTEX_ERRORCHECK,
                       PTHREAD_MUTEX_DEFAULT};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    CHECK_RC(pthread_mutexattr_settype(&attr, types[i]), 0);
    CHECK_RC(pthread_mutexattr_gettype(&attr, &type), 0);
    CHECK_MSG(type == types[i], "settype %d, gettype %d", types[i], type);
  }
  CHECK_RC(pthread_mutexattr_settype(&attr, 12345), EINVAL);
  CHECK_RC(pthread_mutexattr_gettype(&attr, &type), 0);
  CHECK(type == PTHREAD_MUTEX_DEFAULT);
  CHECK_RC(pthread_mutexattr_destroy(&attr), 0);
}

static void check_destroy(void) {
  pthread_mutex_t m;
  CHECK_RC(pthread_mutex_init(&m, NULL), 0);
  CHECK_RC(pthread_mutex_lock(&m), 0);
  CHECK_RC(pthread_mutex_destroy(&m), EBUSY); /* glibc refuses a locked mutex */
  CHECK_RC(pthread_mutex_unlock(&m), 0);
  CHECK_RC(pthread_mutex_destroy(&m), 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_mutex_t m;

  check_recursive(&static_recursive);
  init_with_type(&m, PTHREAD_MUTEX_RECURSIVE);
  check_recursive(&m);
  CHECK_RC(pthread_mutex_destroy(&m), 0);

  check_errorcheck(&static_errorcheck);
  init_with_type(&m, PTHREAD_MUTEX_ERRORCHECK);
  check_errorcheck(&m);
  CHECK_RC(pthread_mutex_destroy(&m), 0);

  check_plain(&static_normal);
  init_with_type(&m, PTHREAD_MUTEX_NORMAL);
  check_plain(&m);
  CHECK_RC(pthread_mutex_destroy(&m), 0);
  init_with_type(&m, PTHREAD_MUTEX_DEFAULT);
  check_plain(&m);
  CHECK_RC(pthread_mutex_destroy(&m), 0);
  CHECK_RC(pthread_mutex_init(&m, NULL), 0);
  check_plain(&m);

  check_timed(&m);
  CHECK_RC(pthread_mutex_destroy(&m), 0);

  check_attr_types();
  check_destroy();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "mutex_kinds: recursive and errorcheck (static and attr) owner/non-owner results; "
      "normal/default exclusion; trylock EBUSY; timedlock/clocklock ETIMEDOUT not early, "
      "EINVAL, success on release; mutexattr types; destroy locked -> EBUSY\n");
  return 0;
}
