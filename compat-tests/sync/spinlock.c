/* Spinlocks: mutual exclusion under preemption inside the critical section,
 * trylock EBUSY while held, and a waiter that does not burn the CPU while the
 * holder sleeps (on one kernel thread, a waiter that really spun would only
 * keep the holder from running).
 * usage: spinlock [--expect-contention]
 * --expect-contention (used with a short timeslice) requires that some lock
 * attempt found the spinlock held by a preempted owner. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "storm.h"

/* ---- counter: 8 threads ------------------------------------------------------ */

enum { THREADS = 8, INCREMENTS = 5000, CS_SPIN = 600 };

static pthread_spinlock_t counter_lock;
static volatile long counter; /* volatile: keep load and store apart */
static long per_thread[THREADS];
static atomic_long contended;
static atomic_int inside;

static void* counter_worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  long idx = (long)arg;
  for (int i = 0; i < INCREMENTS; i++) {
    int rc = pthread_spin_trylock(&counter_lock);
    if (rc == EBUSY) {
      atomic_fetch_add(&contended, 1);
      CHECK_RC(pthread_spin_lock(&counter_lock), 0);
    } else {
      CHECK_RC(rc, 0);
    }
    int in = atomic_fetch_add(&inside, 1);
    CHECK_MSG(in == 0, "%d other thread(s) inside the spinlock's critical section", in);
    long seen = counter;
    /* No calls here: a timer preemption lands inside the critical section. */
    storm_spin(CS_SPIN);
    counter = seen + 1;
    per_thread[idx]++;
    atomic_fetch_sub(&inside, 1);
    CHECK_RC(pthread_spin_unlock(&counter_lock), 0);
    storm_spin(CS_SPIN / 8);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_counter(int expect_contention) {
  CHECK_RC(pthread_spin_init(&counter_lock, PTHREAD_PROCESS_PRIVATE), 0);
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++)
    CHECK_RC(pthread_create(&t[i], NULL, counter_worker, (void*)i), 0);
  for (int i = 0; i < THREADS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK_MSG(counter == (long)THREADS * INCREMENTS, "counter = %ld, want %ld", counter,
            (long)THREADS * INCREMENTS);
  for (int i = 0; i < THREADS; i++)
    CHECK_MSG(per_thread[i] == INCREMENTS, "thread %d did %ld increments", i, per_thread[i]);
  if (expect_contention)
    CHECK_MSG(atomic_load(&contended) > 0,
              "no trylock ever found the spinlock busy: no preemption inside a critical "
              "section, so the test proved nothing");
  CHECK_RC(pthread_spin_destroy(&counter_lock), 0);
}

/* ---- trylock ---------------------------------------------------------------------- */

static void* trylock_other(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_spinlock_t* s = arg;
  int rc = pthread_spin_trylock(s);
  if (rc == 0) CHECK_RC(pthread_spin_unlock(s), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return (void*)(long)rc;
}

static int trylock_in_other_thread(pthread_spinlock_t* s) {
  pthread_t t;
  void* ret = NULL;
  CHECK_RC(pthread_create(&t, NULL, trylock_other, (void*)s), 0);
  CHECK_RC(pthread_join(t, &ret), 0);
  return (int)(long)ret;
}

static void check_trylock(int pshared) {
  pthread_spinlock_t s;
  CHECK_RC(pthread_spin_init(&s, pshared), 0);
  CHECK_RC(pthread_spin_trylock(&s), 0);
  CHECK_RC(pthread_spin_trylock(&s), EBUSY); /* not recursive */
  CHECK_RC(trylock_in_other_thread(&s), EBUSY);
  CHECK_RC(pthread_spin_unlock(&s), 0);
  CHECK_RC(trylock_in_other_thread(&s), 0);
  CHECK_RC(pthread_spin_lock(&s), 0);
  CHECK_RC(trylock_in_other_thread(&s), EBUSY);
  CHECK_RC(pthread_spin_unlock(&s), 0);
  CHECK_RC(pthread_spin_destroy(&s), 0);
}

/* ---- a waiter while the holder sleeps ----------------------------------------------- */

enum { HOLD_MS = 200, WAIT_CPU_MAX_MS = 100 };

static pthread_spinlock_t sleepy_lock;
static atomic_int holder_has_lock;
static atomic_int holder_released;
static int64_t waiter_got_at, holder_released_at;

static void* sleepy_holder(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_spin_lock(&sleepy_lock), 0);
  atomic_store(&holder_has_lock, 1);
  CHECK(usleep(HOLD_MS * 1000) == 0);
  holder_released_at = now_ns();
  atomic_store(&holder_released, 1);
  CHECK_RC(pthread_spin_unlock(&sleepy_lock), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* spinning_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load(&holder_has_lock)) sched_yield();
  CHECK_RC(pthread_spin_lock(&sleepy_lock), 0);
  waiter_got_at = now_ns();
  CHECK_MSG(atomic_load(&holder_released), "the waiter got the spinlock while the holder had it");
  CHECK_RC(pthread_spin_unlock(&sleepy_lock), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static double check_waiter_does_not_burn_cpu(void) {
  CHECK_RC(pthread_spin_init(&sleepy_lock, PTHREAD_PROCESS_PRIVATE), 0);
  int64_t cpu0 = cpu_ns(), wall0 = now_ns();
  pthread_t holder, waiter;
  CHECK_RC(pthread_create(&holder, NULL, sleepy_holder, NULL), 0);
  CHECK_RC(pthread_create(&waiter, NULL, spinning_waiter, NULL), 0);
  CHECK_RC(pthread_join(holder, NULL), 0);
  CHECK_RC(pthread_join(waiter, NULL), 0);
  double cpu_ms = (double)(cpu_ns() - cpu0) / NS_PER_MS;
  double wall_ms = (double)(now_ns() - wall0) / NS_PER_MS;
  CHECK_MSG(wall_ms >= HOLD_MS, "the holder's %d ms sleep was over after %.1f ms", HOLD_MS,
            wall_ms);
  CHECK_MSG(wall_ms < HOLD_MS + 500, "holding %d ms and handing over took %.1f ms", HOLD_MS,
            wall_ms);
  CHECK(waiter_got_at >= holder_released_at);
#ifndef COMPAT_LOGIC_ONLY /* glibc's own waiters do spin */
  CHECK_MSG(cpu_ms < WAIT_CPU_MAX_MS,
            "the process used %.1f ms of CPU while one thread slept %d ms holding a spinlock "
            "and another waited for it (max %d ms): the waiter burns the CPU",
            cpu_ms, HOLD_MS, WAIT_CPU_MAX_MS);
#endif
  CHECK_RC(pthread_spin_destroy(&sleepy_lock), 0);
  return cpu_ms;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int expect_contention = argc == 2 && strcmp(argv[1], "--expect-contention") == 0;
  CHECK_MSG(argc == 1 || expect_contention, "usage: %s [--expect-contention]", argv[0]);
  int64_t start = now_ns();
  check_counter(expect_contention);
  check_trylock(PTHREAD_PROCESS_PRIVATE);
  check_trylock(PTHREAD_PROCESS_SHARED);
  double cpu_ms = check_waiter_does_not_burn_cpu();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "spinlock: %d threads x %d locked increments = %ld, exact, %ld locks found it held by a "
      "preempted owner; trylock EBUSY; a waiter for a sleeping holder (%d ms) cost %.1f ms "
      "CPU; %.1f ms in all\n",
      THREADS, INCREMENTS, counter, atomic_load(&contended), HOLD_MS, cpu_ms,
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
