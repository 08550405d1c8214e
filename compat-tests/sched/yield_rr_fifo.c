/* Within a priority: sched_yield puts the caller behind its equals only (a
 * lower thread does not run); a SCHED_FIFO thread that keeps the processor
 * is never rotated behind its equal, a SCHED_RR one is, at the end of its
 * timeslice. */
#include "sched_common.h"

static volatile int g_b_ran;

static void* marker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  mark(*(const char*)arg);
  g_b_ran = 1;
  return NULL;
}

/* SCHED_FIFO: spins 30 ms, in and out of libc and of pthread calls (where
 * a tick cannot switch and a later safe point may), and its equal must not
 * run meanwhile. */
static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static void* fifo_spinner(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t end = clock_ns(CLOCK_MONOTONIC) + 30 * NS_PER_MS;
  while (clock_ns(CLOCK_MONOTONIC) < end) {
    int policy;
    struct sched_param p;
    CHECK(getppid() > 0);
    CHECK_RC(pthread_getschedparam(pthread_self(), &policy, &p), 0);
    CHECK_RC(pthread_mutex_lock(&g_mutex), 0);
    CHECK_RC(pthread_mutex_unlock(&g_mutex), 0);
    CHECK_MSG(!g_b_ran, "its equal ran: it was rotated");
  }
  mark('A');
  return NULL;
}

/* SCHED_RR: spins until its equal ran, which a rotation allows. */
static void* rr_spinner(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t limit = clock_ns(CLOCK_MONOTONIC) + 10 * NS_PER_S;
  while (!g_b_ran) CHECK_MSG(clock_ns(CLOCK_MONOTONIC) < limit, "never rotated");
  mark('A');
  return NULL;
}

int main(void) {
  pin_to_one_cpu();
  set_self(SCHED_FIFO, 20);

  pthread_t l = start_thread(SCHED_FIFO, 10, marker, (void*)"L");
  pthread_t e = start_thread(SCHED_FIFO, 20, marker, (void*)"E");
  CHECK(g_order_len == 0);
  CHECK(sched_yield() == 0);
  check_order("E");
  CHECK(sched_yield() == 0); /* alone at its priority: it runs on */
  CHECK(g_order_len == 0);
  CHECK_RC(pthread_join(e, NULL), 0);
  CHECK_RC(pthread_join(l, NULL), 0);
  check_order("L");

  for (int rr = 0; rr < 2; ++rr) {
    g_b_ran = 0;
    int policy = rr ? SCHED_RR : SCHED_FIFO;
    /* Made below their creator, each goes ahead of its equals (glibc
     * lowers it from the creator's priority while it is runnable): A runs
     * first. */
    pthread_t b = start_thread(policy, 10, marker, (void*)"B");
    pthread_t a = start_thread(policy, 10, rr ? rr_spinner : fifo_spinner, NULL);
    CHECK_RC(pthread_join(a, NULL), 0);
    CHECK_RC(pthread_join(b, NULL), 0);
    check_order(rr ? "BA" : "AB");
  }

  set_self(SCHED_OTHER, 0);
  CHECK_ONE_KERNEL_THREAD();
  puts("yield_rr_fifo: equals took turns as their policies say");
  return 0;
}
