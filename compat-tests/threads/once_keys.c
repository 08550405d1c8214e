/* pthread_once under contention, and thread-specific data with destructors. */
#include <limits.h>
#include <pthread.h>

#include "check.h"

enum { THREADS = 50 };

/* ---- pthread_once: 50 callers, a slow init routine --------------------------- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile int init_runs, init_done;

static void slow_init(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  init_runs++;
  /* Sleep and yield so the other callers arrive while this is in progress. */
  usleep(1000);
  sched_yield();
  usleep(1000);
  init_done = 1;
}

static void* call_once(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_once(&once, slow_init), 0);
  CHECK_MSG(init_done, "pthread_once returned before the init routine completed");
  CHECK_RC(pthread_once(&once, slow_init), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_once(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&t[i], NULL, call_once, NULL), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK_MSG(init_runs == 1, "init routine ran %d times", init_runs);
  CHECK_RC(pthread_once(&once, slow_init), 0);
  CHECK(init_runs == 1);
}

/* ---- keys: per-thread values and their destructor --------------------------- */

struct value {
  int thread;
  pthread_t owner;
};

static pthread_key_t key;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int dtor_calls[THREADS];

static void value_dtor(void* p) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct value* v = p;
  CHECK(v->thread >= 0 && v->thread < THREADS);
  CHECK_MSG(pthread_equal(v->owner, pthread_self()),
            "destructor for thread %d's value ran in another thread", v->thread);
  /* POSIX: the value is reset to NULL before the destructor is called. */
  CHECK(pthread_getspecific(key) == NULL);
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  dtor_calls[v->thread]++;
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  free(v);
}

static void* keyed_worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  CHECK_MSG(pthread_getspecific(key) == NULL, "a new thread started with a non-NULL value");
  struct value* v = malloc(sizeof *v);
  CHECK(v != NULL);
  v->thread = idx;
  v->owner = pthread_self();
  CHECK_RC(pthread_setspecific(key, v), 0);
  for (int i = 0; i < 3; i++) {
    sched_yield();
    CHECK_MSG(pthread_getspecific(key) == v, "thread %d sees another thread's value", idx);
  }
  usleep(1000);
  CHECK(pthread_getspecific(key) == v);
  CHECK_ON_MAIN_KERNEL_THREAD();
  /* Both ways out of a thread run the destructors. */
  if (idx % 2) pthread_exit(NULL);
  return NULL;
}

static void check_keys(void) {
  CHECK_RC(pthread_key_create(&key, value_dtor), 0);
  CHECK(pthread_getspecific(key) == NULL);
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    CHECK_RC(pthread_create(&t[i], NULL, keyed_worker, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) {
    CHECK_RC(pthread_join(t[i], NULL), 0);
    /* Destructors run at thread exit, so before join returns. */
    CHECK_MSG(dtor_calls[i] == 1, "destructor ran %d times for thread %d by its join",
              dtor_calls[i], i);
  }
  CHECK_RC(pthread_key_delete(key), 0);
}

/* ---- deleted keys --------------------------------------------------------------- */

static void check_deleted_key(void) {
  pthread_key_t k;
  int dummy;
  CHECK_RC(pthread_key_create(&k, NULL), 0);
  CHECK_RC(pthread_setspecific(k, &dummy), 0);
  CHECK(pthread_getspecific(k) == &dummy);
  CHECK_RC(pthread_key_delete(k), 0);
  CHECK(pthread_getspecific(k) == NULL);
  CHECK_RC(pthread_setspecific(k, &dummy), EINVAL);
}

/* ---- destructors that set the value again ---------------------------------------- */

static pthread_key_t again_key, forever_key;
static int again_calls, forever_calls;
static int token;

static void again_dtor(void* p) {
  CHECK(p == &token);
  if (++again_calls < 3) CHECK_RC(pthread_setspecific(again_key, &token), 0);
}

static void forever_dtor(void* p) {
  CHECK(p == &token);
  forever_calls++;
  CHECK_RC(pthread_setspecific(forever_key, &token), 0);
}

static void* set_both(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_setspecific(again_key, &token), 0);
  CHECK_RC(pthread_setspecific(forever_key, &token), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_destructor_iterations(void) {
  CHECK_RC(pthread_key_create(&again_key, again_dtor), 0);
  CHECK_RC(pthread_key_create(&forever_key, forever_dtor), 0);
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, set_both, NULL), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  /* Re-set twice: called three times in all. */
  CHECK_MSG(again_calls == 3, "re-setting destructor called %d times, want 3", again_calls);
  /* Always re-set: glibc gives up after PTHREAD_DESTRUCTOR_ITERATIONS rounds. */
  CHECK_MSG(forever_calls == PTHREAD_DESTRUCTOR_ITERATIONS,
            "always-re-setting destructor called %d times, want %d", forever_calls,
            PTHREAD_DESTRUCTOR_ITERATIONS);
  CHECK_RC(pthread_key_delete(again_key), 0);
  CHECK_RC(pthread_key_delete(forever_key), 0);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  check_once();
  check_keys();
  check_deleted_key();
  check_destructor_iterations();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "once_keys: pthread_once ran a slow init once for %d contending threads, all "
      "returned after it; %d threads' key values isolated, NULL at start, destructor once "
      "each at exit; deleted key -> EINVAL; re-set destructors called 3 and %d times\n",
      THREADS, THREADS, PTHREAD_DESTRUCTOR_ITERATIONS);
  return 0;
}
