/* The case that used to crash or spin: threads of two processes wait on the
 * same process-shared mutex and condvar at once, with timed waits that end
 * by timeout and by wake-ups from either process, broadcasts from both, and
 * timed locks. Every thread finishes, both processes end normally, and once
 * the work is done the process sleeps without burning the processor.
 */
#include <pthread.h>

#include "procs.h"

enum { kThreads = 4, kRounds = 300 };

struct shm {
  pthread_mutex_t m;
  pthread_cond_t c;
  long rounds, timeouts, busy;
};
static struct shm* s;

static void* churn(void* arg) {
  (void)arg;
  note_kernel_thread();
  for (int i = 0; i < kRounds; ++i) {
    if (i % 5 == 0) {
      struct timespec soon = deadline_after(CLOCK_REALTIME, 200 * 1000);
      int rc = pthread_mutex_timedlock(&s->m, &soon);
      CHECK_MSG(rc == 0 || rc == ETIMEDOUT, "timedlock: %d", rc);
      if (rc == ETIMEDOUT) {
        __atomic_add_fetch(&s->busy, 1, __ATOMIC_RELAXED);
        continue;
      }
    } else {
      CHECK_RC(pthread_mutex_lock(&s->m), 0);
    }
    ++s->rounds;
    if (i % 3 == 0) {
      CHECK_RC(pthread_cond_broadcast(&s->c), 0);
    } else {
      struct timespec soon = deadline_after(CLOCK_REALTIME, 500 * 1000);
      int rc = pthread_cond_timedwait(&s->c, &s->m, &soon);
      CHECK_MSG(rc == 0 || rc == ETIMEDOUT, "timedwait: %d", rc);
      if (rc == ETIMEDOUT) ++s->timeouts;
    }
    CHECK_RC(pthread_mutex_unlock(&s->m), 0);
  }
  note_kernel_thread();
  return NULL;
}

static void run(void* arg) {
  (void)arg;
  pthread_t t[kThreads];
  for (int i = 0; i < kThreads; ++i) CHECK_RC(pthread_create(&t[i], NULL, churn, NULL), 0);
  for (int i = 0; i < kThreads; ++i) CHECK_RC(pthread_join(t[i], NULL), 0);
}

int main(void) {
  s = shared_memory(sizeof *s);
  init_shared_mutex(&s->m);
  init_shared_cond(&s->c);

  pid_t children[1];
  int statuses[1];
  children[0] = spawn(run, NULL);
  run(NULL);
  statuses[0] = wait_for(children[0]);
  long want = 2L * kThreads * kRounds;
  CHECK_MSG(s->rounds + s->busy == want, "rounds %ld + busy %ld, want %ld", s->rounds, s->busy,
            want);

  /* Nothing left to do: a sleep costs (next to) no processor time. */
  int64_t cpu = cpu_ns();
  usleep(300 * 1000);
  cpu = cpu_ns() - cpu;
  CHECK_MSG(cpu < 150 * NS_PER_MS, "%lld ns of CPU while asleep for 300 ms", (long long)cpu);

  finish(children, 1, statuses);
  printf(
      "shared_waiters: %ld rounds (%ld timed out waits, %ld busy timed locks) by 2 processes, "
      "ended normally\n",
      s->rounds, s->timeouts, s->busy);
  return 0;
}
