/* Joining and detaching threads, and the thread attributes that shape them. */
#include <limits.h>
#include <pthread.h>

#include "check.h"

/* ---- join returns each thread's value ---------------------------------------- */

enum { JOINED = 100 };

static void* return_arg(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  sched_yield();
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

static void check_join_values(void) {
  pthread_t t[JOINED];
  for (long i = 0; i < JOINED; i++) CHECK_RC(pthread_create(&t[i], NULL, return_arg, (void*)i), 0);
  /* Join in reverse order: some have finished, some may not have. */
  for (long i = JOINED - 1; i >= 0; i--) {
    void* ret = (void*)-1;
    CHECK_RC(pthread_join(t[i], &ret), 0);
    CHECK_MSG(ret == (void*)i, "thread %ld returned %p", i, ret);
  }
}

/* ---- detached threads: not joinable, but they run to completion ---------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int release_detached; /* detached threads wait for this */
static int detached_done;    /* detached threads that finished */

static void* detached_body(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  while (!release_detached) CHECK_RC(pthread_cond_wait(&changed, &lock), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  usleep(1000); /* still running after main stopped waiting on `changed` */
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  detached_done++;
  CHECK_RC(pthread_cond_broadcast(&changed), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_detach(void) {
  /* One detached by attribute, one by pthread_detach. Both are blocked until
   * released, so they are certainly alive when joined. */
  pthread_attr_t attr;
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
  pthread_t by_attr, by_call;
  CHECK_RC(pthread_create(&by_attr, &attr, detached_body, NULL), 0);
  CHECK_RC(pthread_attr_destroy(&attr), 0);
  CHECK_RC(pthread_create(&by_call, NULL, detached_body, NULL), 0);
  CHECK_RC(pthread_detach(by_call), 0);

  CHECK_RC(pthread_join(by_attr, NULL), EINVAL);
  CHECK_RC(pthread_join(by_call, NULL), EINVAL);
  CHECK_RC(pthread_detach(by_call), EINVAL); /* already detached (glibc) */

  CHECK_RC(pthread_mutex_lock(&lock), 0);
  release_detached = 1;
  CHECK_RC(pthread_cond_broadcast(&changed), 0);
  while (detached_done < 2) CHECK_RC(pthread_cond_wait(&changed, &lock), 0);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);

  /* Detaching a thread that has already finished (but not been joined) is
   * fine too: it frees it. */
  pthread_t finished;
  CHECK_RC(pthread_create(&finished, NULL, return_arg, NULL), 0);
  usleep(20000);
  CHECK_RC(pthread_detach(finished), 0);
}

/* ---- joining oneself ----------------------------------------------------------- */

static void* join_self(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_join(pthread_self(), NULL), EDEADLK);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return (void*)42;
}

static void check_join_self(void) {
  CHECK_RC(pthread_join(pthread_self(), NULL), EDEADLK);
  pthread_t t;
  void* ret;
  CHECK_RC(pthread_create(&t, NULL, join_self, NULL), 0);
  CHECK_RC(pthread_join(t, &ret), 0);
  CHECK(ret == (void*)42);
}

/* ---- stacks ---------------------------------------------------------------------- */

/* Uses about 32 KiB of stack and reports (as a number, it is dead after
 * return) where its locals were. */
static void* use_stack(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  volatile char scratch[32 * 1024];
  for (size_t i = 0; i < sizeof scratch; i += 512) scratch[i] = (char)i;
  sched_yield(); /* the stack must survive a switch */
  for (size_t i = 0; i < sizeof scratch; i += 512) CHECK(scratch[i] == (char)i);
  *(uintptr_t*)arg = (uintptr_t)&scratch[0];
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_stacks(void) {
  pthread_attr_t attr;
  size_t size;
  CHECK_RC(pthread_attr_init(&attr), 0);

  /* A 64 KiB stack. */
  CHECK_RC(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
  CHECK_RC(pthread_attr_getstacksize(&attr, &size), 0);
  CHECK_MSG(size == 64 * 1024, "getstacksize gave %zu", size);
  pthread_t t;
  uintptr_t local;
  CHECK_RC(pthread_create(&t, &attr, use_stack, &local), 0);
  CHECK_RC(pthread_join(t, NULL), 0);

  /* Below PTHREAD_STACK_MIN (16 KiB or more): refused, attribute unchanged. */
  CHECK_RC(pthread_attr_setstacksize(&attr, 4096), EINVAL);
  CHECK_RC(pthread_attr_setstacksize(&attr, 1), EINVAL);
  CHECK_RC(pthread_attr_getstacksize(&attr, &size), 0);
  CHECK(size == 64 * 1024);
  CHECK_RC(pthread_attr_destroy(&attr), 0);

  /* A caller-provided stack: the thread's locals must be inside it. */
  enum { USER_STACK = 256 * 1024 };
  void* stack = NULL;
  CHECK_RC(posix_memalign(&stack, 4096, USER_STACK), 0);
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setstack(&attr, stack, USER_STACK), 0);
  void* got_addr;
  CHECK_RC(pthread_attr_getstack(&attr, &got_addr, &size), 0);
  CHECK(got_addr == stack && size == USER_STACK);
  CHECK_RC(pthread_create(&t, &attr, use_stack, &local), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_MSG(local >= (uintptr_t)stack && local < (uintptr_t)stack + USER_STACK,
            "thread local at %#lx, outside its stack [%p, %p)", (unsigned long)local, stack,
            (void*)((char*)stack + USER_STACK));
  CHECK_RC(pthread_attr_destroy(&attr), 0);
  free(stack);
}

/* ---- attribute round trips ---------------------------------------------------------- */

static void check_attr_roundtrip(void) {
  pthread_attr_t attr;
  int state;
  size_t size;
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_getdetachstate(&attr, &state), 0);
  CHECK(state == PTHREAD_CREATE_JOINABLE);
  CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
  CHECK_RC(pthread_attr_getdetachstate(&attr, &state), 0);
  CHECK(state == PTHREAD_CREATE_DETACHED);
  CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_JOINABLE), 0);
  CHECK_RC(pthread_attr_getdetachstate(&attr, &state), 0);
  CHECK(state == PTHREAD_CREATE_JOINABLE);
  CHECK_RC(pthread_attr_setdetachstate(&attr, 12345), EINVAL);

  CHECK_RC(pthread_attr_setstacksize(&attr, 1024 * 1024), 0);
  CHECK_RC(pthread_attr_getstacksize(&attr, &size), 0);
  CHECK(size == 1024 * 1024);

  CHECK_RC(pthread_attr_setguardsize(&attr, 8192), 0);
  CHECK_RC(pthread_attr_getguardsize(&attr, &size), 0);
  CHECK(size == 8192);
  CHECK_RC(pthread_attr_setguardsize(&attr, 0), 0);
  CHECK_RC(pthread_attr_getguardsize(&attr, &size), 0);
  CHECK(size == 0);
  CHECK_RC(pthread_attr_destroy(&attr), 0);
}

/* ---- pthread_self / pthread_equal ------------------------------------------------------ */

static void* report_self(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  *(pthread_t*)arg = pthread_self();
  CHECK(pthread_equal(pthread_self(), pthread_self()));
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_self_equal(void) {
  pthread_t t1, t2, self1, self2;
  CHECK_RC(pthread_create(&t1, NULL, report_self, &self1), 0);
  CHECK_RC(pthread_create(&t2, NULL, report_self, &self2), 0);
  CHECK_RC(pthread_join(t1, NULL), 0);
  CHECK_RC(pthread_join(t2, NULL), 0);
  CHECK(pthread_equal(t1, self1));
  CHECK(pthread_equal(t2, self2));
  CHECK(!pthread_equal(t1, t2));
  CHECK(!pthread_equal(pthread_self(), t1));
  CHECK(pthread_equal(pthread_self(), pthread_self()));
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  check_join_values();
  check_detach();
  check_join_self();
  check_stacks();
  check_attr_roundtrip();
  check_self_equal();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "join_detach: %d join values; detached threads (attr and pthread_detach) run to the "
      "end and join gives EINVAL; self-join EDEADLK; 64 KiB and user stacks; attr "
      "round trips; pthread_self/pthread_equal\n",
      JOINED);
  return 0;
}
