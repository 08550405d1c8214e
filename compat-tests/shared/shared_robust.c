/* Robust mutexes, within a process and across processes:
 * - a process that dies holding a robust process-shared mutex hands it to
 *   the next locker with EOWNERDEAD, including a thread already waiting for
 *   it (while the waiter's sibling keeps running);
 * - pthread_mutex_consistent makes it usable again; unlocking it without
 *   that makes it ENOTRECOVERABLE for every later lock and trylock;
 * - a thread that exits holding one (private, or shared with a waiter in
 *   another process) hands it on with EOWNERDEAD the same way;
 * - a condvar wait whose robust mutex's owner process died while the waiter
 *   was signalled returns EOWNERDEAD with the mutex held;
 * - a recursive robust mutex locked twice while inconsistent answers the
 *   first unlock ENOTRECOVERABLE (still held), as glibc;
 * - consistent answers EINVAL for a consistent or a non-robust mutex.
 */
#include <pthread.h>

#include "procs.h"

struct shm {
  pthread_mutex_t died_unrecovered, died_recovered, thread_died, with_cond;
  pthread_cond_t cond;
  int cond_waiting;
  int child_holds, waiter_parked;
  long sibling_ran;
  int locker_done;
};
static struct shm* s;
static pthread_mutex_t private_robust, private_recursive;

static void init_robust(pthread_mutex_t* m, int pshared, int type) {
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_settype(&a, type), 0);
  CHECK_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
  int robust = 0;
  CHECK_RC(pthread_mutexattr_getrobust(&a, &robust), 0);
  CHECK(robust == PTHREAD_MUTEX_ROBUST);
  CHECK_RC(pthread_mutexattr_setpshared(&a, pshared), 0);
  CHECK_RC(pthread_mutex_init(m, &a), 0);
  CHECK_RC(pthread_mutexattr_destroy(&a), 0);
}

static void wait_until(int* flag, int want, const char* what) {
  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != want) {
    CHECK_MSG(now_ns() < give_up, "gave up waiting for %s", what);
    usleep(1000);
  }
}

/* Locks and ends the process holding it. */
static void die_holding(void* arg) { CHECK_RC(pthread_mutex_lock((pthread_mutex_t*)arg), 0); }

/* Locks, tells, waits for a waiter to park, ends the process holding it. */
static void die_holding_after_waiter(void* arg) {
  CHECK_RC(pthread_mutex_lock((pthread_mutex_t*)arg), 0);
  __atomic_store_n(&s->child_holds, 1, __ATOMIC_RELEASE);
  wait_until(&s->waiter_parked, 1, "the parent's waiter");
  /* Its sibling runs on meanwhile: the waiter is parked by now. */
  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (__atomic_load_n(&s->sibling_ran, __ATOMIC_RELAXED) < 1000) {
    CHECK_MSG(now_ns() < give_up, "the waiter's sibling ran only %ld times", s->sibling_ran);
    usleep(1000);
  }
}

static void* waiter(void* arg) {
  note_kernel_thread();
  pthread_mutex_t* m = arg;
  __atomic_store_n(&s->waiter_parked, 1, __ATOMIC_RELEASE);
  int rc = pthread_mutex_lock(m);
  __atomic_store_n(&s->locker_done, 1, __ATOMIC_RELEASE);
  note_kernel_thread();
  return (void*)(long)rc;
}

static void* sibling(void* arg) {
  (void)arg;
  note_kernel_thread();
  while (!__atomic_load_n(&s->locker_done, __ATOMIC_ACQUIRE)) {
    __atomic_add_fetch(&s->sibling_ran, 1, __ATOMIC_RELAXED);
    sched_yield();
  }
  note_kernel_thread();
  return NULL;
}

static void* exit_holding(void* arg) {
  note_kernel_thread();
  CHECK_RC(pthread_mutex_lock((pthread_mutex_t*)arg), 0);
  note_kernel_thread();
  return NULL; /* still holding it */
}

/* Waits (in another process) for the mutex the parent's exited thread held. */
static void lock_after_thread_died(void* arg) {
  pthread_mutex_t* m = arg;
  CHECK_RC(pthread_mutex_lock(m), EOWNERDEAD);
  CHECK_RC(pthread_mutex_consistent(m), 0);
  CHECK_RC(pthread_mutex_unlock(m), 0);
}

/* Takes the mutex from the condvar waiter, signals, and dies holding it. */
static void signal_and_die(void* arg) {
  (void)arg;
  CHECK_RC(pthread_mutex_lock(&s->with_cond), 0);
  CHECK_RC(pthread_cond_signal(&s->cond), 0);
}

static void* cond_waiter(void* arg) {
  (void)arg;
  note_kernel_thread();
  CHECK_RC(pthread_mutex_lock(&s->with_cond), 0);
  __atomic_store_n(&s->cond_waiting, 1, __ATOMIC_RELEASE);
  int rc = pthread_cond_wait(&s->cond, &s->with_cond);
  if (rc == EOWNERDEAD) {
    CHECK_RC(pthread_mutex_consistent(&s->with_cond), 0);
    CHECK_RC(pthread_mutex_unlock(&s->with_cond), 0);
  }
  note_kernel_thread();
  return (void*)(long)rc;
}

int main(void) {
  s = shared_memory(sizeof *s);
  init_robust(&s->died_unrecovered, PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_NORMAL);
  init_robust(&s->died_recovered, PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ERRORCHECK);
  init_robust(&s->thread_died, PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_NORMAL);
  init_robust(&s->with_cond, PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_NORMAL);
  init_robust(&private_robust, PTHREAD_PROCESS_PRIVATE, PTHREAD_MUTEX_NORMAL);
  init_robust(&private_recursive, PTHREAD_PROCESS_PRIVATE, PTHREAD_MUTEX_RECURSIVE);
  pthread_condattr_t ca;
  CHECK_RC(pthread_condattr_init(&ca), 0);
  CHECK_RC(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), 0);
  CHECK_RC(pthread_cond_init(&s->cond, &ca), 0);
  pid_t children[4];
  int statuses[4];

  /* 1. The owner process died; nobody makes it consistent. */
  children[0] = spawn(die_holding, &s->died_unrecovered);
  statuses[0] = wait_for(children[0]);
  CHECK_RC(pthread_mutex_trylock(&s->died_unrecovered), EOWNERDEAD);
  CHECK_RC(pthread_mutex_unlock(&s->died_unrecovered), 0);
  CHECK_RC(pthread_mutex_lock(&s->died_unrecovered), ENOTRECOVERABLE);
  CHECK_RC(pthread_mutex_trylock(&s->died_unrecovered), ENOTRECOVERABLE);
  CHECK_RC(pthread_mutex_consistent(&s->died_unrecovered), EINVAL);

  /* 2. It dies while a thread here waits for it, and a sibling runs on. */
  children[1] = spawn(die_holding_after_waiter, &s->died_recovered);
  wait_until(&s->child_holds, 1, "the child to lock it");
  pthread_t w, r;
  CHECK_RC(pthread_create(&r, NULL, sibling, NULL), 0);
  CHECK_RC(pthread_create(&w, NULL, waiter, &s->died_recovered), 0);
  void* rc;
  CHECK_RC(pthread_join(w, &rc), 0);
  CHECK_RC(pthread_join(r, NULL), 0);
  statuses[1] = wait_for(children[1]);
  CHECK_MSG((long)rc == EOWNERDEAD, "the waiter got %ld, want EOWNERDEAD", (long)rc);
  CHECK_MSG(s->sibling_ran >= 1000, "the waiter's sibling ran %ld times", s->sibling_ran);
  /* The waiter thread exited holding it, inconsistent: still EOWNERDEAD. */
  CHECK_RC(pthread_mutex_lock(&s->died_recovered), EOWNERDEAD);
  CHECK_RC(pthread_mutex_consistent(&s->died_recovered), 0);
  CHECK_RC(pthread_mutex_consistent(&s->died_recovered), EINVAL);
  CHECK_RC(pthread_mutex_lock(&s->died_recovered), EDEADLK);
  CHECK_RC(pthread_mutex_unlock(&s->died_recovered), 0);
  CHECK_RC(pthread_mutex_unlock(&s->died_recovered), EPERM);
  CHECK_RC(pthread_mutex_lock(&s->died_recovered), 0);
  CHECK_RC(pthread_mutex_unlock(&s->died_recovered), 0);

  /* 3. A thread exits holding a private robust mutex. */
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, exit_holding, &private_robust), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_RC(pthread_mutex_lock(&private_robust), EOWNERDEAD);
  CHECK_RC(pthread_mutex_consistent(&private_robust), 0);
  CHECK_RC(pthread_mutex_unlock(&private_robust), 0);
  CHECK_RC(pthread_mutex_trylock(&private_robust), 0);
  CHECK_RC(pthread_mutex_unlock(&private_robust), 0);

  /* 4. A thread exits holding a shared one another process waits for. */
  CHECK_RC(pthread_create(&t, NULL, exit_holding, &s->thread_died), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  children[2] = spawn(lock_after_thread_died, &s->thread_died);
  statuses[2] = wait_for(children[2]);
  CHECK_RC(pthread_mutex_lock(&s->thread_died), 0);
  CHECK_RC(pthread_mutex_unlock(&s->thread_died), 0);

  /* 5. A condvar wait gets its mutex back from a dead process. */
  CHECK_RC(pthread_create(&t, NULL, cond_waiter, NULL), 0);
  wait_until(&s->cond_waiting, 1, "the condvar waiter");
  children[3] = spawn(signal_and_die, NULL);
  CHECK_RC(pthread_join(t, &rc), 0);
  statuses[3] = wait_for(children[3]);
  CHECK_MSG((long)rc == EOWNERDEAD, "cond_wait returned %ld, want EOWNERDEAD", (long)rc);
  CHECK_RC(pthread_mutex_lock(&s->with_cond), 0);
  CHECK_RC(pthread_mutex_unlock(&s->with_cond), 0);

  /* 6. Recursive and inconsistent: told at the first unlock. */
  CHECK_RC(pthread_create(&t, NULL, exit_holding, &private_recursive), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_RC(pthread_mutex_lock(&private_recursive), EOWNERDEAD);
  CHECK_RC(pthread_mutex_lock(&private_recursive), 0);
  CHECK_RC(pthread_mutex_unlock(&private_recursive), ENOTRECOVERABLE);
  CHECK_RC(pthread_mutex_unlock(&private_recursive), 0);
  CHECK_RC(pthread_mutex_lock(&private_recursive), ENOTRECOVERABLE);

  /* 7. Not robust: nothing to make consistent. */
  pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
  CHECK_RC(pthread_mutex_consistent(&plain), EINVAL);

  finish(children, 4, statuses);
  printf(
      "shared_robust: EOWNERDEAD after a process's and a thread's death, consistent, "
      "ENOTRECOVERABLE as natively\n");
  return 0;
}
