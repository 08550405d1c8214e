/* A PTHREAD_PROCESS_SHARED reader-writer lock across two processes:
 * - writers of both processes exclude each other and every reader (a
 *   counter and a reader's view of a two-word invariant stay exact);
 * - readers of both processes hold it at the same time;
 * - a writer in one process makes the other's trylocks EBUSY and a timed
 *   write lock time out; the writer's relock is EDEADLK.
 */
#include <pthread.h>

#include "procs.h"

enum { kWriters = 2, kReaders = 2, kIterations = 1500 };

struct shm {
  pthread_rwlock_t l;
  long a, b; /* a == b outside a write */
  int readers_inside, most_readers_inside;
  int phase;
};
static struct shm* s;

static void* writer(void* arg) {
  (void)arg;
  note_kernel_thread();
  for (int i = 0; i < kIterations; ++i) {
    CHECK_RC(pthread_rwlock_wrlock(&s->l), 0);
    CHECK(s->readers_inside == 0);
    long v = s->a;
    if (i % 8 == 0) sched_yield();
    s->a = v + 1;
    s->b = v + 1;
    CHECK_RC(pthread_rwlock_unlock(&s->l), 0);
  }
  note_kernel_thread();
  return NULL;
}

static void* reader(void* arg) {
  (void)arg;
  note_kernel_thread();
  for (int i = 0; i < kIterations; ++i) {
    CHECK_RC(pthread_rwlock_rdlock(&s->l), 0);
    int inside = __atomic_add_fetch(&s->readers_inside, 1, __ATOMIC_ACQ_REL);
    int most = __atomic_load_n(&s->most_readers_inside, __ATOMIC_RELAXED);
    while (inside > most && !__atomic_compare_exchange_n(&s->most_readers_inside, &most, inside, 0,
                                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    CHECK_MSG(s->a == s->b, "a reader saw a write half done: %ld, %ld", s->a, s->b);
    if (i % 4 == 0) sched_yield();
    __atomic_sub_fetch(&s->readers_inside, 1, __ATOMIC_ACQ_REL);
    CHECK_RC(pthread_rwlock_unlock(&s->l), 0);
  }
  note_kernel_thread();
  return NULL;
}

static void run(void) {
  pthread_t w[kWriters], r[kReaders];
  for (int i = 0; i < kWriters; ++i) CHECK_RC(pthread_create(&w[i], NULL, writer, NULL), 0);
  for (int i = 0; i < kReaders; ++i) CHECK_RC(pthread_create(&r[i], NULL, reader, NULL), 0);
  for (int i = 0; i < kWriters; ++i) CHECK_RC(pthread_join(w[i], NULL), 0);
  for (int i = 0; i < kReaders; ++i) CHECK_RC(pthread_join(r[i], NULL), 0);
}

static void wait_phase(int want) {
  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (__atomic_load_n(&s->phase, __ATOMIC_ACQUIRE) != want) {
    CHECK_MSG(now_ns() < give_up, "gave up waiting for phase %d", want);
    usleep(1000);
  }
}

static void child(void* arg) {
  (void)arg;
  run();
  wait_phase(1); /* the parent holds it for writing */
  CHECK_RC(pthread_rwlock_tryrdlock(&s->l), EBUSY);
  CHECK_RC(pthread_rwlock_trywrlock(&s->l), EBUSY);
  struct timespec soon = deadline_after(CLOCK_REALTIME, 30 * NS_PER_MS);
  CHECK_RC(pthread_rwlock_timedwrlock(&s->l, &soon), ETIMEDOUT);
  __atomic_store_n(&s->phase, 2, __ATOMIC_RELEASE);
  /* Blocks until the parent releases; then holds it for reading with the parent. */
  CHECK_RC(pthread_rwlock_rdlock(&s->l), 0);
  __atomic_store_n(&s->phase, 3, __ATOMIC_RELEASE);
  wait_phase(4);
  CHECK_RC(pthread_rwlock_unlock(&s->l), 0);
}

int main(void) {
  s = shared_memory(sizeof *s);
  pthread_rwlockattr_t a;
  CHECK_RC(pthread_rwlockattr_init(&a), 0);
  CHECK_RC(pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  int pshared = 0;
  CHECK_RC(pthread_rwlockattr_getpshared(&a, &pshared), 0);
  CHECK(pshared == PTHREAD_PROCESS_SHARED);
  CHECK_RC(pthread_rwlock_init(&s->l, &a), 0);
  CHECK_RC(pthread_rwlockattr_destroy(&a), 0);

  pid_t children[1];
  int statuses[1];
  children[0] = spawn(child, NULL);
  run();
  int64_t give_up = now_ns() + 20 * NS_PER_S;
  while (__atomic_load_n(&s->a, __ATOMIC_ACQUIRE) != 2L * kWriters * kIterations) {
    CHECK_MSG(now_ns() < give_up, "writes: %ld", s->a);
    usleep(1000);
  }
  CHECK_RC(pthread_rwlock_wrlock(&s->l), 0);
  CHECK_RC(pthread_rwlock_wrlock(&s->l), EDEADLK);
  CHECK_RC(pthread_rwlock_tryrdlock(&s->l), EBUSY);
  __atomic_store_n(&s->phase, 1, __ATOMIC_RELEASE);
  wait_phase(2);
  CHECK_RC(pthread_rwlock_unlock(&s->l), 0);
  wait_phase(3);
  CHECK_RC(pthread_rwlock_tryrdlock(&s->l), 0); /* with the child's read lock */
  CHECK_RC(pthread_rwlock_trywrlock(&s->l), EBUSY);
  CHECK_RC(pthread_rwlock_unlock(&s->l), 0);
  __atomic_store_n(&s->phase, 4, __ATOMIC_RELEASE);
  statuses[0] = wait_for(children[0]);
  CHECK_MSG(s->a == 2L * kWriters * kIterations, "a %ld", s->a);
  CHECK_RC(pthread_rwlock_destroy(&s->l), 0);
  finish(children, 1, statuses);
  printf("shared_rwlock: writers of 2 processes exact (%ld), up to %d readers at once\n", s->a,
         s->most_readers_inside);
  return 0;
}
