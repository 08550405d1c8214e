/* A PTHREAD_PROCESS_SHARED barrier for 3 threads in each of 2 processes:
 * for 200 rounds nobody passes before all 6 arrived (each thread checks the
 * round counters of everyone), and exactly one of the 6 is the serial thread.
 */
#include <pthread.h>

#include "procs.h"

enum { kThreads = 3, kParties = 2 * kThreads, kRounds = 200 };

struct shm {
  pthread_barrier_t b;
  int arrived[kRounds];
  int serial[kRounds];
};
static struct shm* s;

static void* party(void* arg) {
  (void)arg;
  note_kernel_thread();
  for (int r = 0; r < kRounds; ++r) {
    __atomic_add_fetch(&s->arrived[r], 1, __ATOMIC_ACQ_REL);
    int rc = pthread_barrier_wait(&s->b);
    CHECK_MSG(rc == 0 || rc == PTHREAD_BARRIER_SERIAL_THREAD, "barrier_wait: %d", rc);
    if (rc == PTHREAD_BARRIER_SERIAL_THREAD) __atomic_add_fetch(&s->serial[r], 1, __ATOMIC_ACQ_REL);
    int arrived = __atomic_load_n(&s->arrived[r], __ATOMIC_ACQUIRE);
    CHECK_MSG(arrived == kParties, "round %d: passed with %d of %d arrived", r, arrived, kParties);
  }
  note_kernel_thread();
  return NULL;
}

static void run(void* arg) {
  (void)arg;
  pthread_t t[kThreads];
  for (int i = 0; i < kThreads; ++i) CHECK_RC(pthread_create(&t[i], NULL, party, NULL), 0);
  for (int i = 0; i < kThreads; ++i) CHECK_RC(pthread_join(t[i], NULL), 0);
}

int main(void) {
  s = shared_memory(sizeof *s);
  pthread_barrierattr_t a;
  CHECK_RC(pthread_barrierattr_init(&a), 0);
  CHECK_RC(pthread_barrierattr_setpshared(&a, PTHREAD_PROCESS_SHARED), 0);
  int pshared = 0;
  CHECK_RC(pthread_barrierattr_getpshared(&a, &pshared), 0);
  CHECK(pshared == PTHREAD_PROCESS_SHARED);
  CHECK_RC(pthread_barrier_init(&s->b, &a, kParties), 0);
  CHECK_RC(pthread_barrierattr_destroy(&a), 0);

  pid_t children[1];
  int statuses[1];
  children[0] = spawn(run, NULL);
  run(NULL);
  statuses[0] = wait_for(children[0]);
  for (int r = 0; r < kRounds; ++r)
    CHECK_MSG(s->serial[r] == 1, "round %d had %d serial threads", r, s->serial[r]);
  CHECK_RC(pthread_barrier_destroy(&s->b), 0);
  finish(children, 1, statuses);
  printf("shared_barrier: %d rounds of %d threads in 2 processes, one serial thread each\n",
         kRounds, kParties);
  return 0;
}
