/* PTHREAD_PROCESS_SHARED mutexes in MAP_SHARED memory, used by the threads of
 * three processes at once (each on its own one kernel thread under ptshim):
 * - normal, recursive and error-checking mutexes keep a counter exact under
 *   contention from 3 x 4 threads that yield inside the critical section;
 * - the owner is known across processes: the child's thread 1 is not the
 *   parent's thread 1 (unlock EPERM, trylock EBUSY, timedlock ETIMEDOUT,
 *   relock EDEADLK only for the owner);
 * - a thread that waits for a mutex another process holds parks without
 *   blocking the other threads of its process, and gets the mutex when that
 *   process releases it.
 */
#include <pthread.h>

#include "procs.h"

enum { kProcesses = 3, kThreads = 4, kIterations = 1500 };

struct shm {
  pthread_mutex_t counted[3];
  long counter[3];
  pthread_mutex_t owned_errorcheck, owned_recursive, held;
  int child_checked; /* the child finished its ownership checks */
  int waiter_parked; /* about to lock `held` */
  long others_ran;   /* iterations of the waiter's sibling while it waited */
  int waiter_has_it;
};
static struct shm* s;
static const int kTypes[3] = {PTHREAD_MUTEX_NORMAL, PTHREAD_MUTEX_RECURSIVE,
                              PTHREAD_MUTEX_ERRORCHECK};

static void init_mutex(pthread_mutex_t* m, int type) {
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_settype(&a, type), 0);
  CHECK_RC(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  int pshared = 0;
  CHECK_RC(pthread_mutexattr_getpshared(&a, &pshared), 0);
  CHECK(pshared == PTHREAD_PROCESS_SHARED);
  CHECK_RC(pthread_mutex_init(m, &a), 0);
  CHECK_RC(pthread_mutexattr_destroy(&a), 0);
}

static void* count(void* arg) {
  note_kernel_thread();
  int k = (int)(long)arg;
  pthread_mutex_t* m = &s->counted[k];
  for (int i = 0; i < kIterations; ++i) {
    CHECK_RC(pthread_mutex_lock(m), 0);
    if (kTypes[k] == PTHREAD_MUTEX_RECURSIVE) CHECK_RC(pthread_mutex_lock(m), 0);
    if (kTypes[k] == PTHREAD_MUTEX_ERRORCHECK) CHECK_RC(pthread_mutex_lock(m), EDEADLK);
    long v = s->counter[k];
    if (i % 8 == 0) sched_yield(); /* others, here and elsewhere, find it held */
    s->counter[k] = v + 1;
    if (kTypes[k] == PTHREAD_MUTEX_RECURSIVE) CHECK_RC(pthread_mutex_unlock(m), 0);
    CHECK_RC(pthread_mutex_unlock(m), 0);
  }
  note_kernel_thread();
  return NULL;
}

static void count_everything(void) {
  pthread_t t[3][kThreads];
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < kThreads; ++i)
      CHECK_RC(pthread_create(&t[k][i], NULL, count, (void*)(long)k), 0);
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < kThreads; ++i) CHECK_RC(pthread_join(t[k][i], NULL), 0);
}

static void counting_child(void* arg) {
  (void)arg;
  count_everything();
}

/* The parent's thread 1 holds both; this is the child's thread 1. */
static void ownership_child(void* arg) {
  (void)arg;
  CHECK_RC(pthread_mutex_unlock(&s->owned_errorcheck), EPERM);
  CHECK_RC(pthread_mutex_unlock(&s->owned_recursive), EPERM);
  CHECK_RC(pthread_mutex_trylock(&s->owned_errorcheck), EBUSY);
  CHECK_RC(pthread_mutex_trylock(&s->owned_recursive), EBUSY);
  struct timespec soon = deadline_after(CLOCK_REALTIME, 50 * NS_PER_MS);
  CHECK_RC(pthread_mutex_timedlock(&s->owned_errorcheck, &soon), ETIMEDOUT);
  __atomic_store_n(&s->child_checked, 1, __ATOMIC_RELEASE);
  /* Blocks until the parent unlocks: then it is ours, and relocking is ours
   * to get wrong. */
  CHECK_RC(pthread_mutex_lock(&s->owned_errorcheck), 0);
  CHECK_RC(pthread_mutex_lock(&s->owned_errorcheck), EDEADLK);
  CHECK_RC(pthread_mutex_unlock(&s->owned_errorcheck), 0);
}

static void* waiter(void* arg) {
  (void)arg;
  note_kernel_thread();
  __atomic_store_n(&s->waiter_parked, 1, __ATOMIC_RELEASE);
  CHECK_RC(pthread_mutex_lock(&s->held), 0);
  __atomic_store_n(&s->waiter_has_it, 1, __ATOMIC_RELEASE);
  CHECK_RC(pthread_mutex_unlock(&s->held), 0);
  note_kernel_thread();
  return NULL;
}

static void* sibling(void* arg) {
  (void)arg;
  note_kernel_thread();
  while (!__atomic_load_n(&s->waiter_has_it, __ATOMIC_ACQUIRE)) {
    __atomic_add_fetch(&s->others_ran, 1, __ATOMIC_RELAXED);
    sched_yield();
  }
  note_kernel_thread();
  return NULL;
}

static void waiting_child(void* arg) {
  (void)arg;
  pthread_t w, r;
  CHECK_RC(pthread_create(&w, NULL, waiter, NULL), 0);
  CHECK_RC(pthread_create(&r, NULL, sibling, NULL), 0);
  CHECK_RC(pthread_join(w, NULL), 0);
  CHECK_RC(pthread_join(r, NULL), 0);
}

static void wait_until(int* flag, const char* what) {
  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
    CHECK_MSG(now_ns() < give_up, "gave up waiting for %s", what);
    usleep(1000);
  }
}

int main(void) {
  s = shared_memory(sizeof *s);
  for (int k = 0; k < 3; ++k) init_mutex(&s->counted[k], kTypes[k]);
  init_mutex(&s->owned_errorcheck, PTHREAD_MUTEX_ERRORCHECK);
  init_mutex(&s->owned_recursive, PTHREAD_MUTEX_RECURSIVE);
  init_mutex(&s->held, PTHREAD_MUTEX_NORMAL);

  pid_t children[kProcesses + 1];
  int statuses[kProcesses + 1];
  for (int i = 0; i < kProcesses - 1; ++i) children[i] = spawn(counting_child, NULL);
  count_everything();
  for (int i = 0; i < kProcesses - 1; ++i) statuses[i] = wait_for(children[i]);
  for (int k = 0; k < 3; ++k)
    CHECK_MSG(s->counter[k] == (long)kProcesses * kThreads * kIterations,
              "type %d: counter %ld, want %ld", kTypes[k], s->counter[k],
              (long)kProcesses * kThreads * kIterations);

  CHECK_RC(pthread_mutex_lock(&s->owned_errorcheck), 0);
  CHECK_RC(pthread_mutex_lock(&s->owned_recursive), 0);
  CHECK_RC(pthread_mutex_lock(&s->owned_recursive), 0);
  children[2] = spawn(ownership_child, NULL);
  wait_until(&s->child_checked, "the child's ownership checks");
  CHECK_RC(pthread_mutex_unlock(&s->owned_recursive), 0);
  CHECK_RC(pthread_mutex_unlock(&s->owned_recursive), 0);
  CHECK_RC(pthread_mutex_unlock(&s->owned_errorcheck), 0);
  statuses[2] = wait_for(children[2]);
  CHECK_RC(pthread_mutex_trylock(&s->owned_errorcheck), 0);
  CHECK_RC(pthread_mutex_unlock(&s->owned_errorcheck), 0);

  CHECK_RC(pthread_mutex_lock(&s->held), 0);
  children[3] = spawn(waiting_child, NULL);
  wait_until(&s->waiter_parked, "the child's waiter");
  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (__atomic_load_n(&s->others_ran, __ATOMIC_RELAXED) < 1000) {
    CHECK_MSG(now_ns() < give_up, "the waiter's sibling ran only %ld times",
              __atomic_load_n(&s->others_ran, __ATOMIC_RELAXED));
    usleep(1000);
  }
  CHECK(!__atomic_load_n(&s->waiter_has_it, __ATOMIC_ACQUIRE));
  CHECK_RC(pthread_mutex_unlock(&s->held), 0);
  statuses[3] = wait_for(children[3]);

  /* The parent ran threads too (the counters): its check sees them. */
  finish(children, kProcesses + 1, statuses);
  CHECK_RC(pthread_mutex_destroy(&s->held), 0);
  printf(
      "shared_mutex: 3 processes x 4 threads kept 3 counters exact; ownership, waiting as "
      "natively\n");
  return 0;
}
