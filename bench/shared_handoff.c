/* shared_handoff: condvar_handoff across two processes: a thread in each
 * passes a token back and forth, N times each, through a process-shared
 * mutex and condition variable in MAP_SHARED memory. ns_per_op = elapsed /
 * (2N), the time of one hand-off from one process to the other (under
 * ptshim each process's kernel thread sleeps in the idle path meanwhile, and
 * the other's wake must reach it). */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

struct shared {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  int turn;      /* whose turn: 0 (parent) or 1 (child) */
  long handoffs; /* total hand-offs done, checked at the end */
};
static struct shared* s;
static long iterations;

static void* player(void* arg) {
  int me = (int)(long)arg;
  for (long i = 0; i < iterations; i++) {
    pthread_mutex_lock(&s->lock);
    while (s->turn != me) pthread_cond_wait(&s->changed, &s->lock);
    s->turn = 1 - me;
    s->handoffs++;
    pthread_cond_signal(&s->changed);
    pthread_mutex_unlock(&s->lock);
  }
  return NULL;
}

/* In a thread of its own, so that natively each side is a kernel thread. */
static void play(int me) {
  pthread_t t;
  bench_check(pthread_create(&t, NULL, player, (void*)(long)me), "pthread_create");
  bench_check(pthread_join(t, NULL), "pthread_join");
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 20000);
  s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) {
    perror("bench: shared_handoff: mmap");
    return 1;
  }
  pthread_mutexattr_t ma;
  pthread_condattr_t ca;
  bench_check(pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
  bench_check(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED), "setpshared");
  bench_check(pthread_mutex_init(&s->lock, &ma), "pthread_mutex_init");
  bench_check(pthread_condattr_init(&ca), "pthread_condattr_init");
  bench_check(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), "setpshared");
  bench_check(pthread_cond_init(&s->changed, &ca), "pthread_cond_init");
  fflush(stdout);
  double t0 = bench_now_ns();
  pid_t child = fork();
  if (child < 0) {
    perror("bench: shared_handoff: fork");
    return 1;
  }
  if (child == 0) {
    play(1);
    _exit(0);
  }
  play(0);
  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench: shared_handoff: the child failed\n");
    return 1;
  }
  double t1 = bench_now_ns();
  if (s->handoffs != 2 * iterations || s->turn != 0) {
    fprintf(stderr, "bench: shared_handoff: %ld hand-offs, expected %ld\n", s->handoffs,
            2 * iterations);
    return 1;
  }
  bench_report("shared_handoff", t1 - t0, 2 * iterations);
  return 0;
}
