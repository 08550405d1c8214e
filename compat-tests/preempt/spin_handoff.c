/* A main thread that posts jobs to a worker and spins, with no library call,
 * until the worker has done each one (as redis's main thread waits on a
 * counter its I/O threads update). The worker waits for a job on a condition
 * variable, bumps the counter and waits again. On one kernel thread every
 * hand-off needs the spinner to be preempted so that the worker can run.
 *
 * The check is on CPU time, not on the clock: while the worker waits for the
 * processor, the spinner burns it, so the process's CPU time per hand-off is
 * how long each hand-off kept the worker waiting, and a loaded machine does
 * not inflate it as it would the elapsed time. With a fixed 10 ms timeslice,
 * a scheduler that lets a spinner keep the processor for its whole slice
 * spends about 10 ms of CPU per hand-off; the test allows a tenth of that,
 * on average, and stops as soon as the hand-offs so far have used more than
 * the budget of all of them. It prints the hand-offs per second.
 *
 *   compat_spin_handoff [HANDOFFS [CPU_US_PER_HANDOFF]]   (default 1000 1000)
 */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"

static long handoffs = 1000;
static long budget_us = 1000; /* CPU per hand-off, on average */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t posted = PTHREAD_COND_INITIALIZER;
static long jobs;        /* jobs posted; under lock */
static atomic_long done; /* jobs done: what the main thread spins on */

static void* worker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (long seen = 0; seen < handoffs; seen++) {
    CHECK_RC(pthread_mutex_lock(&lock), 0);
    while (jobs == seen) CHECK_RC(pthread_cond_wait(&posted, &lock), 0);
    CHECK(jobs == seen + 1);
    CHECK_RC(pthread_mutex_unlock(&lock), 0);
    atomic_store_explicit(&done, seen + 1, memory_order_release);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static long arg_or(int argc, char** argv, int i, long dflt) {
  if (argc <= i) return dflt;
  char* end;
  long v = strtol(argv[i], &end, 10);
  CHECK_MSG(*argv[i] != '\0' && *end == '\0' && v > 0, "bad argument '%s'", argv[i]);
  return v;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  handoffs = arg_or(argc, argv, 1, handoffs);
  budget_us = arg_or(argc, argv, 2, budget_us);
  pthread_t w;
  CHECK_RC(pthread_create(&w, NULL, worker, NULL), 0);
  int64_t cpu0 = cpu_ns(), start = now_ns();
  int64_t budget_ns = handoffs * budget_us * 1000;
  for (long i = 1; i <= handoffs; i++) {
    CHECK_RC(pthread_mutex_lock(&lock), 0);
    jobs = i;
    CHECK_RC(pthread_cond_signal(&posted), 0);
    CHECK_RC(pthread_mutex_unlock(&lock), 0);
    while (atomic_load_explicit(&done, memory_order_acquire) != i) {
      /* spin: no calls, no yields */
    }
    int64_t cpu = cpu_ns() - cpu0;
    CHECK_MSG(cpu <= budget_ns,
              "%ld of %ld hand-offs used %.1f ms of CPU, more than the %.1f ms allowed for all "
              "%ld (%.0f us each): the spinner kept the processor while the worker waited",
              i, handoffs, (double)cpu / NS_PER_MS, (double)budget_ns / NS_PER_MS, handoffs,
              (double)cpu / 1000.0 / (double)i);
  }
  int64_t elapsed = now_ns() - start;
  int64_t cpu = cpu_ns() - cpu0;
  CHECK_RC(pthread_join(w, NULL), 0);
  CHECK(atomic_load(&done) == handoffs && jobs == handoffs);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "spin_handoff: %ld hand-offs to a worker from a call-free spinner: %.0f per second, "
      "%.0f us of CPU each (allowed: %ld)\n",
      handoffs, (double)handoffs * NS_PER_S / (double)elapsed,
      (double)cpu / 1000.0 / (double)handoffs, budget_us);
  return 0;
}
