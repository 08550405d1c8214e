/* Linux's RT throttling: a SCHED_FIFO thread that spins until a SCHED_OTHER
 * thread does something still lets that thread run, after it used up the
 * real-time share of the period (sched_rt_runtime_us of sched_rt_period_us,
 * 0.95 s of 1 s by default): neither hangs, and the SCHED_OTHER thread does
 * not run before the spinner has had most of that share. */
#include "sched_common.h"

static volatile int g_released;
static volatile int64_t g_spin_start_ns;

static void* spinner(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  g_spin_start_ns = clock_ns(CLOCK_MONOTONIC);
  int64_t limit = g_spin_start_ns + 30 * NS_PER_S;
  while (!g_released)
    CHECK_MSG(clock_ns(CLOCK_MONOTONIC) < limit, "the SCHED_OTHER thread never ran");
  return NULL;
}

static long read_us(const char* path) {
  FILE* f = fopen(path, "r");
  long v = -1;
  if (f != NULL) {
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}

int main(void) {
  pin_to_one_cpu();
  long runtime = read_us("/proc/sys/kernel/sched_rt_runtime_us");
  long period = read_us("/proc/sys/kernel/sched_rt_period_us");
  if (runtime < 0 || period <= 0 || runtime >= period || runtime < period / 2) {
    puts("rt_throttle: throttling off or small here, nothing to check");
    CHECK_ONE_KERNEL_THREAD();
    return 0;
  }
  /* Main is SCHED_OTHER; the spinner preempts it as soon as it is made. */
  pthread_t t = start_thread(SCHED_FIFO, 10, spinner, NULL);
  CHECK_MSG(g_spin_start_ns != 0, "the SCHED_FIFO thread did not preempt its creator");
  int64_t ran_after = clock_ns(CLOCK_MONOTONIC) - g_spin_start_ns;
  g_released = 1;
  CHECK_RC(pthread_join(t, NULL), 0);
  /* Half the runtime: margin for where the window began. */
  CHECK_MSG(ran_after >= runtime * 1000 / 2, "SCHED_OTHER ran %lld ms into the spin",
            (long long)(ran_after / NS_PER_MS));
  CHECK_ONE_KERNEL_THREAD();
  puts("rt_throttle: the real-time spinner let SCHED_OTHER run once throttled");
  return 0;
}
