/* Sleeping threads: they wake in deadline order, they sleep concurrently,
 * an all-asleep process burns no CPU, and the sleep calls keep their
 * documented results and argument checks. */
#include <pthread.h>

#include "check.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- wake order: 60, 20, 40 ms, created in that order ---------------------- */

enum { SLEEPERS = 3 };
static const int sleep_ms[SLEEPERS] = {60, 20, 40};
static int wake_order[SLEEPERS];
static int woken;

/* Sleep `ms` with one of the three sleep calls, chosen by `how`. */
static void sleep_with(int how, int ms) {
  switch (how % 3) {
    case 0:
      CHECK(usleep((useconds_t)ms * 1000) == 0);
      break;
    case 1: {
      struct timespec req = ns_to_timespec(ms * NS_PER_MS);
      CHECK(nanosleep(&req, NULL) == 0);
      break;
    }
    default: {
      struct timespec req = ns_to_timespec(ms * NS_PER_MS);
      CHECK_RC(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), 0);
      break;
    }
  }
}

static void* ordered_sleeper(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  int64_t start = now_ns();
  sleep_with(idx, sleep_ms[idx]);
  int64_t slept = now_ns() - start;
  CHECK_MSG(slept >= sleep_ms[idx] * NS_PER_MS, "a %d ms sleep returned after %.3f ms",
            sleep_ms[idx], (double)slept / NS_PER_MS);
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  wake_order[woken++] = idx;
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_wake_order(void) {
  pthread_t t[SLEEPERS];
  for (long i = 0; i < SLEEPERS; i++)
    CHECK_RC(pthread_create(&t[i], NULL, ordered_sleeper, (void*)i), 0);
  for (int i = 0; i < SLEEPERS; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK(woken == SLEEPERS);
  /* Deadline order: the 20 ms sleeper (1), then 40 ms (2), then 60 ms (0). */
  CHECK_MSG(wake_order[0] == 1 && wake_order[1] == 2 && wake_order[2] == 0,
            "woke in order of %d, %d, %d ms sleeps; want 20, 40, 60", sleep_ms[wake_order[0]],
            sleep_ms[wake_order[1]], sleep_ms[wake_order[2]]);
}

/* ---- idle: everybody asleep for 300 ms ------------------------------------- */

enum { IDLE_MS = 300, IDLE_CPU_MAX_MS = 30, IDLE_WALL_MAX_MS = 700 };

static void* idle_sleeper(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  sleep_with((int)(long)arg, IDLE_MS);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_idle_costs_no_cpu(double* cpu_ms, double* wall_ms) {
  pthread_t t[3];
  int64_t wall0 = now_ns(), cpu0 = cpu_ns();
  for (long i = 0; i < 3; i++) CHECK_RC(pthread_create(&t[i], NULL, idle_sleeper, (void*)i), 0);
  for (int i = 0; i < 3; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  *cpu_ms = (double)(cpu_ns() - cpu0) / NS_PER_MS;
  *wall_ms = (double)(now_ns() - wall0) / NS_PER_MS;
  CHECK_MSG(*wall_ms >= IDLE_MS, "three %d ms sleeps were over after %.1f ms", IDLE_MS, *wall_ms);
  /* Run one after the other they would take 900 ms. */
  CHECK_MSG(*wall_ms < IDLE_WALL_MAX_MS,
            "three concurrent %d ms sleeps took %.1f ms: did they sleep one after the other?",
            IDLE_MS, *wall_ms);
  CHECK_MSG(*cpu_ms < IDLE_CPU_MAX_MS,
            "the process used %.1f ms of CPU while all its threads slept %d ms (max %d ms)",
            *cpu_ms, IDLE_MS, IDLE_CPU_MAX_MS);
}

/* ---- results and argument checking ------------------------------------------ */

static void* abstime_sleeper(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  clockid_t clock = (clockid_t)(long)arg;
  struct timespec deadline = deadline_after(clock, 20 * NS_PER_MS);
  CHECK_RC(clock_nanosleep(clock, TIMER_ABSTIME, &deadline, NULL), 0);
  int64_t now = clock_ns(clock);
  CHECK_MSG(now >= timespec_to_ns(&deadline), "TIMER_ABSTIME sleep woke %.3f ms early",
            (double)(timespec_to_ns(&deadline) - now) / NS_PER_MS);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_sleep_calls(void) {
  /* Not interrupted: nanosleep returns 0 and leaves `rem` alone (Linux only
   * writes it on EINTR); zero would be acceptable too. */
  struct timespec req = {0, 5 * NS_PER_MS};
  struct timespec rem = {123, 456};
  CHECK(nanosleep(&req, &rem) == 0);
  CHECK_MSG((rem.tv_sec == 123 && rem.tv_nsec == 456) || (rem.tv_sec == 0 && rem.tv_nsec == 0),
            "uninterrupted nanosleep set rem to {%ld, %ld}", (long)rem.tv_sec, rem.tv_nsec);
  rem.tv_sec = 123, rem.tv_nsec = 456;
  CHECK_RC(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem), 0);
  CHECK((rem.tv_sec == 123 && rem.tv_nsec == 456) || (rem.tv_sec == 0 && rem.tv_nsec == 0));

  /* Absolute deadlines, on both clocks, in two threads sleeping at once. */
  pthread_t mono, real;
  CHECK_RC(pthread_create(&mono, NULL, abstime_sleeper, (void*)(long)CLOCK_MONOTONIC), 0);
  CHECK_RC(pthread_create(&real, NULL, abstime_sleeper, (void*)(long)CLOCK_REALTIME), 0);
  CHECK_RC(pthread_join(mono, NULL), 0);
  CHECK_RC(pthread_join(real, NULL), 0);
  /* An absolute deadline in the past returns at once. */
  struct timespec past = {1, 0};
  CHECK_RC(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);

  CHECK(sleep(0) == 0);
  CHECK(usleep(0) == 0);
  struct timespec zero = {0, 0};
  CHECK(nanosleep(&zero, NULL) == 0);

  /* Invalid requests: nanosleep fails with errno, clock_nanosleep returns the
   * error number and leaves errno alone. */
  struct timespec bad_nsec = {0, 1000000000L};
  struct timespec negative_nsec = {0, -1};
  errno = 0;
  CHECK(nanosleep(&bad_nsec, NULL) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(nanosleep(&negative_nsec, NULL) == -1 && errno == EINVAL);
  errno = 0;
  CHECK_RC(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad_nsec, NULL), EINVAL);
  CHECK_RC(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &bad_nsec, NULL), EINVAL);
  CHECK_MSG(errno == 0, "clock_nanosleep set errno to %d", errno);
  errno = 0;
  CHECK_RC(clock_nanosleep((clockid_t)12345, 0, &req, NULL), EINVAL);
  CHECK_MSG(errno == 0, "clock_nanosleep set errno to %d", errno);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  check_wake_order();
  double cpu_ms, wall_ms;
  check_idle_costs_no_cpu(&cpu_ms, &wall_ms);
  check_sleep_calls();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "sleep_order: 60/20/40 ms sleepers woke in deadline order; three concurrent 300 ms "
      "sleeps took %.1f ms wall, %.1f ms CPU; nanosleep/clock_nanosleep results, "
      "TIMER_ABSTIME and EINVAL cases ok\n",
      wall_ms, cpu_ms);
  return 0;
}
