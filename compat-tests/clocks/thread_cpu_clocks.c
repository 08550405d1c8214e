/* Per-thread CPU-time clocks. Two threads burn different amounts of CPU time
 * (each until its own CLOCK_THREAD_CPUTIME_ID says so) at the same time, a
 * third only sleeps; then all three wait at a barrier while main reads their
 * clocks through pthread_getcpuclockid. Each clock must hold its own
 * thread's time only (not the others'), never more than the wall time the
 * thread has lived, and the process clock at least their sum. Also:
 * getrusage(RUSAGE_THREAD), clock_getres on the clocks, clock_nanosleep
 * (EINVAL on the caller's own clock; on another thread's it waits until that
 * thread has used so much; on the process's CPU clock it waits for the
 * process's time, while the other threads run), and EINVAL for a clock that
 * names no thread. Margins are generous: the machine may be loaded. */
#include <pthread.h>
#include <sys/resource.h>

#include "check.h"

enum { LIGHT_MS = 60, HEAVY_MS = 180, SLEEP_MS = 150, SLACK_MS = 60 };

static pthread_barrier_t done, leave;
static int64_t born_ns;

struct worker {
  int burn_ms;
  pthread_t thread;
  clockid_t clock;
  int64_t rusage_ns;
  clockid_t own_clock; /* what pthread_getcpuclockid gave the thread itself */
  int spin_after;      /* after the barriers: spin while main sets it */
};

static int64_t thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

static int64_t read_clock(clockid_t clock) {
  struct timespec ts;
  CHECK_MSG(clock_gettime(clock, &ts) == 0, "clock_gettime(%d): %s", clock, strerror(errno));
  return timespec_to_ns(&ts);
}

static void burn_until(int64_t cpu_target_ns) {
  volatile unsigned long spins = 0;
  while (thread_cpu_ns() < cpu_target_ns) {
    for (int i = 0; i < 1000; i++) spins++;
  }
}

static void* work(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct worker* w = arg;
  clockid_t own;
  CHECK_RC(pthread_getcpuclockid(pthread_self(), &own), 0);
  w->own_clock = own;
  struct timespec tiny = {0, 1000};
  CHECK_RC(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &tiny, NULL), EINVAL);
  CHECK_RC(clock_nanosleep(own, 0, &tiny, NULL), EINVAL);
  if (w->burn_ms > 0) {
    burn_until(thread_cpu_ns() + w->burn_ms * NS_PER_MS);
  } else {
    struct timespec nap = ns_to_timespec(SLEEP_MS * NS_PER_MS);
    CHECK(nanosleep(&nap, NULL) == 0);
  }
  struct rusage ru;
  CHECK(getrusage(RUSAGE_THREAD, &ru) == 0);
  w->rusage_ns = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS_PER_S +
                 (int64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
  pthread_barrier_wait(&done);
  pthread_barrier_wait(&leave);
  volatile unsigned long spins = 0;
  while (__atomic_load_n(&w->spin_after, __ATOMIC_SEQ_CST)) spins++;
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  static struct worker workers[3] = {{.burn_ms = LIGHT_MS}, {.burn_ms = HEAVY_MS}, {.burn_ms = 0}};
  CHECK_RC(pthread_barrier_init(&done, NULL, 4), 0);
  CHECK_RC(pthread_barrier_init(&leave, NULL, 4), 0);
  born_ns = now_ns();
  int64_t main_cpu_before = thread_cpu_ns();
  for (int i = 0; i < 3; i++) {
    CHECK_RC(pthread_create(&workers[i].thread, NULL, work, &workers[i]), 0);
    CHECK_RC(pthread_getcpuclockid(workers[i].thread, &workers[i].clock), 0);
  }
  clockid_t main_clock;
  CHECK_RC(pthread_getcpuclockid(pthread_self(), &main_clock), 0);
  for (int i = 0; i < 3; i++) CHECK(workers[i].clock != main_clock);
  CHECK(workers[0].clock != workers[1].clock && workers[1].clock != workers[2].clock);

  pthread_barrier_wait(&done);
  /* Everyone is waiting: their clocks stand still while main reads them. */
  int64_t lived_ns = now_ns() - born_ns;
  int64_t sum = read_clock(main_clock);
  CHECK_MSG(sum - main_cpu_before < SLACK_MS * NS_PER_MS,
            "main's clock grew by %lld ms while main only created threads and waited",
            (long long)((sum - main_cpu_before) / NS_PER_MS));
  for (int i = 0; i < 3; i++) {
    struct worker* w = &workers[i];
    CHECK_MSG(w->own_clock == w->clock, "pthread_getcpuclockid gave %d in thread %d, %d to main",
              w->own_clock, i, w->clock);
    int64_t t = read_clock(w->clock);
    sum += t;
    int64_t want = w->burn_ms * NS_PER_MS;
    CHECK_MSG(t >= want && t < want + SLACK_MS * NS_PER_MS,
              "thread %d burned %d ms, but its clock says %lld ms", i, w->burn_ms,
              (long long)(t / NS_PER_MS));
    CHECK_MSG(t <= lived_ns, "thread %d: %lld ms of CPU time in %lld ms of life", i,
              (long long)(t / NS_PER_MS), (long long)(lived_ns / NS_PER_MS));
    CHECK_MSG(w->rusage_ns >= want / 2 && w->rusage_ns <= t + SLACK_MS * NS_PER_MS,
              "thread %d burned %d ms, its clock says %lld ms, getrusage(RUSAGE_THREAD) %lld ms", i,
              w->burn_ms, (long long)(t / NS_PER_MS), (long long)(w->rusage_ns / NS_PER_MS));
    struct timespec res = {12345, 12345}, thread_res;
    CHECK(clock_getres(w->clock, &res) == 0);
    CHECK(clock_getres(CLOCK_THREAD_CPUTIME_ID, &thread_res) == 0);
    CHECK_MSG(res.tv_sec == thread_res.tv_sec && res.tv_nsec == thread_res.tv_nsec,
              "clock_getres: %ld.%09ld for thread %d's clock, %ld.%09ld for the caller's",
              (long)res.tv_sec, res.tv_nsec, i, (long)thread_res.tv_sec, thread_res.tv_nsec);
  }
  int64_t process = cpu_ns();
  CHECK_MSG(process >= sum, "the process used %lld us, its threads %lld us together",
            (long long)(process / 1000), (long long)(sum / 1000));

  /* The heavy thread burns again, until main has slept on its clock until
   * it used 100 ms more, then on the process's CPU clock for 50 ms of it. */
  struct worker* heavy = &workers[1];
  struct timespec until = ns_to_timespec(read_clock(heavy->clock) + 100 * NS_PER_MS);
  __atomic_store_n(&heavy->spin_after, 1, __ATOMIC_SEQ_CST);
  pthread_barrier_wait(&leave);
  CHECK_RC(clock_nanosleep(heavy->clock, TIMER_ABSTIME, &until, NULL), 0);
  CHECK_MSG(read_clock(heavy->clock) >= timespec_to_ns(&until),
            "the sleep on thread 1's clock ended before its time had come");
  int64_t process_before = cpu_ns();
  struct timespec fifty = ns_to_timespec(50 * NS_PER_MS);
  CHECK_RC(clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &fifty, NULL), 0);
  CHECK_MSG(cpu_ns() - process_before >= 50 * NS_PER_MS,
            "the 50 ms sleep on the process's CPU clock ended after %lld ms of it",
            (long long)((cpu_ns() - process_before) / NS_PER_MS));
  __atomic_store_n(&heavy->spin_after, 0, __ATOMIC_SEQ_CST);
  for (int i = 0; i < 3; i++) CHECK_RC(pthread_join(workers[i].thread, NULL), 0);

  /* (A joined thread's clock is not checked: natively the kernel may still
   * know the thread for a moment after pthread_join returns.) */
  struct timespec ts;
  /* A thread clock of a thread id no kernel hands out. */
  clockid_t nobody = (clockid_t)((~((1u << 22) + (1u << 21) - 1) << 3) | 4 | 2);
  errno = 0;
  CHECK(clock_gettime(nobody, &ts) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(clock_getres(nobody, &ts) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(clock_gettime(-1, &ts) == -1 && errno == EINVAL);
  CHECK_RC(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL), EINVAL);

  printf("thread_cpu_clocks: %d, %d and 0 ms burned; clocks and process agree\n", LIGHT_MS,
         HEAVY_MS);
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
