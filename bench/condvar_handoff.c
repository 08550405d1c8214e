/* condvar_handoff: two threads pass a token back and forth, N times each,
 * through a mutex and a condition variable. ns_per_op = elapsed / (2N),
 * the time of one hand-off. */
#include <pthread.h>

#include "bench_common.h"

static long iterations;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int turn;      /* whose turn: 0 or 1 */
static long handoffs; /* total hand-offs done, checked at the end */

static void* player(void* arg) {
  int me = (int)(long)arg;
  for (long i = 0; i < iterations; i++) {
    pthread_mutex_lock(&lock);
    while (turn != me) pthread_cond_wait(&changed, &lock);
    turn = 1 - me;
    handoffs++;
    pthread_cond_signal(&changed);
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 15000);
  pthread_t a, b;
  double t0 = bench_now_ns();
  bench_check(pthread_create(&a, NULL, player, (void*)0L), "pthread_create");
  bench_check(pthread_create(&b, NULL, player, (void*)1L), "pthread_create");
  bench_check(pthread_join(a, NULL), "pthread_join");
  bench_check(pthread_join(b, NULL), "pthread_join");
  double t1 = bench_now_ns();
  if (handoffs != 2 * iterations || turn != 0) {
    fprintf(stderr, "bench: condvar_handoff: %ld hand-offs, expected %ld\n", handoffs,
            2 * iterations);
    return 1;
  }
  bench_report("condvar_handoff", t1 - t0, 2 * iterations);
  return 0;
}
