/* A process-shared condvar destroyed, and its memory cleared, right after
 * the broadcast that woke its waiters in other processes, then made again
 * (the Open POSIX pthread_cond_destroy pattern), round after round: every
 * waiter still leaves its wait, as with glibc, whose pthread_cond_destroy
 * waits until the waiters have left. 4 child processes wait in each of 300
 * rounds; the parent's second thread keeps it from being alone. */
#include <pthread.h>
#include <stdatomic.h>

#include "procs.h"

enum { kChildren = 4, kRounds = 300 };

static struct {
  pthread_mutex_t m;
  pthread_cond_t c;
  atomic_int open; /* the round whose condvar is ready */
  int count;       /* waiters so far, under m */
  int go;          /* the round released, under m */
} * s;

static void child(void* arg) {
  (void)arg;
  note_kernel_thread();
  for (int r = 1; r <= kRounds; ++r) {
    while (atomic_load(&s->open) != r) sched_yield();
    CHECK_RC(pthread_mutex_lock(&s->m), 0);
    s->count++;
    while (s->go != r) CHECK_RC(pthread_cond_wait(&s->c, &s->m), 0);
    CHECK_RC(pthread_mutex_unlock(&s->m), 0);
  }
  note_kernel_thread();
}

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;
static int idle_done;

static void* idler(void* arg) {
  (void)arg;
  note_kernel_thread();
  pthread_mutex_lock(&idle_lock);
  while (!idle_done) pthread_cond_wait(&idle_cond, &idle_lock);
  pthread_mutex_unlock(&idle_lock);
  note_kernel_thread();
  return NULL;
}

int main(void) {
  s = shared_memory(sizeof *s);
  init_shared_mutex(&s->m);

  pid_t children[kChildren];
  int statuses[kChildren];
  for (int i = 0; i < kChildren; ++i) children[i] = spawn(child, NULL);
  pthread_t idle;
  CHECK_RC(pthread_create(&idle, NULL, idler, NULL), 0);

  for (int r = 1; r <= kRounds; ++r) {
    init_shared_cond(&s->c);
    atomic_store(&s->open, r);
    CHECK_RC(pthread_mutex_lock(&s->m), 0);
    while (s->count < kChildren * r) {
      CHECK_RC(pthread_mutex_unlock(&s->m), 0);
      sched_yield();
      CHECK_RC(pthread_mutex_lock(&s->m), 0);
    }
    s->go = r;
    CHECK_RC(pthread_cond_broadcast(&s->c), 0);
    CHECK_RC(pthread_mutex_unlock(&s->m), 0);
    CHECK_RC(pthread_cond_destroy(&s->c), 0);
    memset(&s->c, 0, sizeof s->c);
  }
  for (int i = 0; i < kChildren; ++i) statuses[i] = wait_for(children[i]);
  finish(children, kChildren, statuses);
  pthread_mutex_lock(&idle_lock);
  idle_done = 1;
  pthread_cond_signal(&idle_cond);
  pthread_mutex_unlock(&idle_lock);
  CHECK_RC(pthread_join(idle, NULL), 0);
  printf("shared_cond_reuse: %d rounds of %d waiters in other processes\n", kRounds, kChildren);
  return 0;
}
