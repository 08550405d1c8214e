/* spin_handoff: the main thread hands N jobs to a worker and spins, with no
 * library call, until the worker has done each one (as redis's main thread
 * waits for its I/O threads). The worker waits for a job on a condition
 * variable, bumps a counter and waits again; the main thread posts a job with
 * a mutex and a signal, then reads the counter in a loop. Every hand-off needs
 * the worker to run while the main thread spins. ns_per_op = elapsed / N, the
 * time of one hand-off. Natively the two run on two CPUs; pinned to one CPU
 * (or on one kernel thread) the worker runs only when the spinner is
 * preempted. */
#include <pthread.h>
#include <stdatomic.h>

#include "bench_common.h"

static long iterations;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t posted = PTHREAD_COND_INITIALIZER;
static long jobs;        /* jobs posted; under lock */
static atomic_long done; /* jobs done: the counter the main thread spins on */

static void* worker(void* arg) {
  (void)arg;
  for (long seen = 0; seen < iterations; seen++) {
    pthread_mutex_lock(&lock);
    while (jobs == seen) pthread_cond_wait(&posted, &lock);
    pthread_mutex_unlock(&lock);
    atomic_store_explicit(&done, seen + 1, memory_order_release);
  }
  return NULL;
}

int main(int argc, char** argv) {
  iterations = bench_iterations(argc, argv, 10000);
  pthread_t w;
  bench_check(pthread_create(&w, NULL, worker, NULL), "pthread_create");
  double t0 = bench_now_ns();
  for (long i = 1; i <= iterations; i++) {
    pthread_mutex_lock(&lock);
    jobs = i;
    pthread_cond_signal(&posted);
    pthread_mutex_unlock(&lock);
    while (atomic_load_explicit(&done, memory_order_acquire) != i) {
      /* spin: no calls, no yields */
    }
  }
  double t1 = bench_now_ns();
  bench_check(pthread_join(w, NULL), "pthread_join");
  bench_report("spin_handoff", t1 - t0, iterations);
  return 0;
}
