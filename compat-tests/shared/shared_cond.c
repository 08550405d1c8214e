/* PTHREAD_PROCESS_SHARED condition variables with a shared mutex, across two
 * processes of several threads each:
 * - a bounded buffer: 2 producers and 3 consumers in each process, every
 *   item produced is consumed exactly once, whichever process took it;
 * - a broadcast from one process wakes the waiters of both;
 * - a timed wait on a CLOCK_MONOTONIC shared condvar times out with the
 *   mutex held again;
 * - a thread cancelled in a shared condvar wait runs its cleanup handler
 *   with the mutex held again.
 */
#include <pthread.h>

#include "procs.h"

enum { kProducers = 2, kConsumers = 3, kItems = 2000, kSlots = 8, kWaiters = 3 };
enum { kTotal = 2 * kProducers * kItems };

struct shm {
  pthread_mutex_t m;
  pthread_cond_t not_empty, not_full, go, never;
  long buffer[kSlots];
  int head, count;
  long produced_sum, consumed_sum, consumed;
  long consumed_by[2];
  int ready, released, woken;
};
static struct shm* s;
static int process_index; /* 0 parent, 1 child */

static void* produce(void* arg) {
  note_kernel_thread();
  long base = (long)arg;
  for (long i = 1; i <= kItems; ++i) {
    long item = base * kItems + i;
    CHECK_RC(pthread_mutex_lock(&s->m), 0);
    while (s->count == kSlots) CHECK_RC(pthread_cond_wait(&s->not_full, &s->m), 0);
    s->buffer[(s->head + s->count) % kSlots] = item;
    ++s->count;
    s->produced_sum += item;
    CHECK_RC(pthread_cond_signal(&s->not_empty), 0);
    CHECK_RC(pthread_mutex_unlock(&s->m), 0);
  }
  note_kernel_thread();
  return NULL;
}

static void* consume(void* arg) {
  (void)arg;
  note_kernel_thread();
  CHECK_RC(pthread_mutex_lock(&s->m), 0);
  for (;;) {
    while (s->count == 0 && s->consumed < kTotal)
      CHECK_RC(pthread_cond_wait(&s->not_empty, &s->m), 0);
    if (s->consumed == kTotal) break;
    s->consumed_sum += s->buffer[s->head];
    s->head = (s->head + 1) % kSlots;
    --s->count;
    ++s->consumed_by[process_index];
    if (++s->consumed == kTotal) CHECK_RC(pthread_cond_broadcast(&s->not_empty), 0);
    CHECK_RC(pthread_cond_signal(&s->not_full), 0);
  }
  CHECK_RC(pthread_mutex_unlock(&s->m), 0);
  note_kernel_thread();
  return NULL;
}

static void* wait_for_go(void* arg) {
  (void)arg;
  note_kernel_thread();
  CHECK_RC(pthread_mutex_lock(&s->m), 0);
  ++s->ready;
  while (!s->released) CHECK_RC(pthread_cond_wait(&s->go, &s->m), 0);
  ++s->woken;
  CHECK_RC(pthread_mutex_unlock(&s->m), 0);
  note_kernel_thread();
  return NULL;
}

static void unlock_shared(void* arg) { CHECK_RC(pthread_mutex_unlock(arg), 0); }

static void* wait_forever(void* arg) {
  (void)arg;
  note_kernel_thread();
  CHECK_RC(pthread_mutex_lock(&s->m), 0);
  pthread_cleanup_push(unlock_shared, &s->m);
  ++s->ready;
  for (;;) pthread_cond_wait(&s->never, &s->m);
  pthread_cleanup_pop(0);
  return NULL;
}

static void run(void) {
  pthread_t p[kProducers], c[kConsumers], w[kWaiters];
  for (int i = 0; i < kProducers; ++i)
    CHECK_RC(pthread_create(&p[i], NULL, produce, (void*)(long)(process_index * kProducers + i)),
             0);
  for (int i = 0; i < kConsumers; ++i) CHECK_RC(pthread_create(&c[i], NULL, consume, NULL), 0);
  for (int i = 0; i < kWaiters; ++i) CHECK_RC(pthread_create(&w[i], NULL, wait_for_go, NULL), 0);
  for (int i = 0; i < kProducers; ++i) CHECK_RC(pthread_join(p[i], NULL), 0);
  for (int i = 0; i < kConsumers; ++i) CHECK_RC(pthread_join(c[i], NULL), 0);
  if (process_index == 0) {
    /* Everyone of both processes waits on `go`: one broadcast wakes all. */
    int64_t give_up = now_ns() + 20 * NS_PER_S;
    for (;;) {
      CHECK_RC(pthread_mutex_lock(&s->m), 0);
      int ready = s->ready;
      if (ready == 2 * kWaiters) break;
      CHECK_RC(pthread_mutex_unlock(&s->m), 0);
      CHECK_MSG(now_ns() < give_up, "only %d waiters ready", ready);
      usleep(1000);
    }
    s->released = 1;
    CHECK_RC(pthread_cond_broadcast(&s->go), 0);
    CHECK_RC(pthread_mutex_unlock(&s->m), 0);
  }
  for (int i = 0; i < kWaiters; ++i) CHECK_RC(pthread_join(w[i], NULL), 0);
}

static void child(void* arg) {
  (void)arg;
  process_index = 1;
  run();
}

int main(void) {
  s = shared_memory(sizeof *s);
  init_shared_mutex(&s->m);
  pthread_condattr_t ca;
  CHECK_RC(pthread_condattr_init(&ca), 0);
  CHECK_RC(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), 0);
  int pshared = 0;
  CHECK_RC(pthread_condattr_getpshared(&ca, &pshared), 0);
  CHECK(pshared == PTHREAD_PROCESS_SHARED);
  CHECK_RC(pthread_cond_init(&s->not_empty, &ca), 0);
  CHECK_RC(pthread_cond_init(&s->not_full, &ca), 0);
  CHECK_RC(pthread_cond_init(&s->go, &ca), 0);
  CHECK_RC(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
  CHECK_RC(pthread_cond_init(&s->never, &ca), 0);

  pid_t children[1];
  int statuses[1];
  children[0] = spawn(child, NULL);
  run();
  statuses[0] = wait_for(children[0]);

  CHECK_MSG(s->consumed == kTotal && s->count == 0, "consumed %ld of %d, %d left", s->consumed,
            kTotal, s->count);
  CHECK_MSG(s->consumed_sum == s->produced_sum, "consumed sum %ld, produced sum %ld",
            s->consumed_sum, s->produced_sum);
  long n = 2L * kProducers * kItems;
  CHECK_MSG(s->produced_sum == n * (n + 1) / 2, "produced sum %ld", s->produced_sum);
  CHECK_MSG(s->woken == 2 * kWaiters, "broadcast woke %d of %d", s->woken, 2 * kWaiters);

  CHECK_RC(pthread_mutex_lock(&s->m), 0);
  struct timespec soon = deadline_after(CLOCK_MONOTONIC, 30 * NS_PER_MS);
  CHECK_RC(pthread_cond_timedwait(&s->never, &s->m, &soon), ETIMEDOUT);
  CHECK_RC(pthread_mutex_trylock(&s->m), EBUSY); /* held again */
  CHECK_RC(pthread_mutex_unlock(&s->m), 0);
  /* Cancelled while it waits: the cleanup handler unlocks the mutex. */
  s->ready = 0;
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, wait_forever, NULL), 0);
  for (;;) {
    CHECK_RC(pthread_mutex_lock(&s->m), 0);
    int ready = s->ready;
    CHECK_RC(pthread_mutex_unlock(&s->m), 0);
    if (ready) break;
    usleep(1000);
  }
  CHECK_RC(pthread_cancel(t), 0);
  void* result;
  CHECK_RC(pthread_join(t, &result), 0);
  CHECK(result == PTHREAD_CANCELED);
  CHECK_RC(pthread_mutex_trylock(&s->m), 0);
  CHECK_RC(pthread_mutex_unlock(&s->m), 0);
  CHECK_RC(pthread_cond_destroy(&s->never), 0);

  finish(children, 1, statuses);
  printf(
      "shared_cond: %d items through a shared buffer (parent's consumers took %ld, the "
      "child's %ld); broadcast and timed wait as natively\n",
      kTotal, s->consumed_by[0], s->consumed_by[1]);
  return 0;
}
