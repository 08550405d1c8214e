/* What a thread can learn and set about itself and others:
 * pthread_getattr_np (stack range, stack and guard sizes, detach state) for
 * created threads and main; names; CPU-time clocks; scheduling parameters,
 * priority and affinity (accepted and reported back); the concurrency hint;
 * and the non-blocking and timed joins. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "check.h"

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* ---- pthread_getattr_np: stack, guard, detach state ----------------------------- */

struct attr_report {
  void* stack_addr;
  size_t stack_size;
  size_t guard_size;
  int detach_state;
  uintptr_t local; /* address of a local variable of the thread */
};

/* The caller's own attributes, and where one of its locals lives. */
static __attribute__((noinline)) void report_self(struct attr_report* r) {
  volatile int local = 0;
  r->local = (uintptr_t)&local;
  pthread_attr_t attr;
  CHECK_RC(pthread_getattr_np(pthread_self(), &attr), 0);
  CHECK_RC(pthread_attr_getstack(&attr, &r->stack_addr, &r->stack_size), 0);
  CHECK_RC(pthread_attr_getguardsize(&attr, &r->guard_size), 0);
  CHECK_RC(pthread_attr_getdetachstate(&attr, &r->detach_state), 0);
  /* getstacksize agrees with getstack. */
  size_t size = 0;
  CHECK_RC(pthread_attr_getstacksize(&attr, &size), 0);
  CHECK_MSG(size == r->stack_size, "getstacksize %zu, getstack size %zu", size, r->stack_size);
  CHECK_RC(pthread_attr_destroy(&attr), 0);
}

static void check_contains_local(const struct attr_report* r, const char* who) {
  uintptr_t lo = (uintptr_t)r->stack_addr, hi = lo + r->stack_size;
  CHECK_MSG(r->stack_size > 0 && r->local >= lo && r->local < hi,
            "%s: stack %#lx-%#lx (%zu bytes) does not contain its local at %#lx", who,
            (unsigned long)lo, (unsigned long)hi, r->stack_size, (unsigned long)r->local);
}

static void* report_body(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  report_self(arg);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* A detached thread reports once main has detached it; main waits for the
 * report through `reported`. */
static atomic_int detached_now, reported;
static struct attr_report detached_report;

static void* detached_body(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load(&detached_now)) usleep(1000);
  report_self(&detached_report);
  atomic_store(&reported, 1);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

/* A thread that waits for `release` while main looks at it from outside. */
static atomic_int release;
static void* waiting_body(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load(&release)) usleep(1000);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

enum { SMALL_STACK = 256 * 1024 };

static void check_getattr(void) {
  struct attr_report r;
  pthread_t t;

  /* Default attributes. */
  memset(&r, 0, sizeof r);
  CHECK_RC(pthread_create(&t, NULL, report_body, &r), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  check_contains_local(&r, "default thread");
  CHECK_MSG(r.stack_size >= 16 * 1024, "default thread: stack of %zu bytes", r.stack_size);
  CHECK_MSG(r.guard_size >= page_size(), "default thread: guard of %zu bytes", r.guard_size);
  CHECK(r.detach_state == PTHREAD_CREATE_JOINABLE);

  /* A 256 KiB stack and a two-page guard, asked for through attributes. */
  pthread_attr_t attr;
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
  CHECK_RC(pthread_attr_setguardsize(&attr, 2 * page_size()), 0);
  memset(&r, 0, sizeof r);
  CHECK_RC(pthread_create(&t, &attr, report_body, &r), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  check_contains_local(&r, "256 KiB thread");
  CHECK_MSG(r.stack_size >= SMALL_STACK && r.stack_size <= SMALL_STACK + 64 * 1024,
            "256 KiB thread: stack of %zu bytes", r.stack_size);
  CHECK_MSG(r.guard_size >= 2 * page_size(), "256 KiB thread: guard of %zu bytes, asked for %zu",
            r.guard_size, 2 * page_size());
  CHECK(r.detach_state == PTHREAD_CREATE_JOINABLE);

  /* Detached by attribute: the thread itself sees it. */
  CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
  atomic_store(&detached_now, 1);
  atomic_store(&reported, 0);
  CHECK_RC(pthread_create(&t, &attr, detached_body, NULL), 0);
  CHECK_RC(pthread_attr_destroy(&attr), 0);
  while (!atomic_load(&reported)) usleep(1000);
  check_contains_local(&detached_report, "thread detached by attribute");
  CHECK(detached_report.detach_state == PTHREAD_CREATE_DETACHED);
  CHECK_MSG(detached_report.stack_size >= SMALL_STACK &&
                detached_report.stack_size <= SMALL_STACK + 64 * 1024,
            "256 KiB detached thread: stack of %zu bytes", detached_report.stack_size);

  /* Detached by pthread_detach while running. */
  atomic_store(&detached_now, 0);
  atomic_store(&reported, 0);
  CHECK_RC(pthread_create(&t, NULL, detached_body, NULL), 0);
  CHECK_RC(pthread_detach(t), 0);
  atomic_store(&detached_now, 1);
  while (!atomic_load(&reported)) usleep(1000);
  CHECK(detached_report.detach_state == PTHREAD_CREATE_DETACHED);

  /* Looked at from outside, by main, while it runs. */
  atomic_store(&release, 0);
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
  CHECK_RC(pthread_create(&t, &attr, waiting_body, NULL), 0);
  CHECK_RC(pthread_attr_destroy(&attr), 0);
  CHECK_RC(pthread_getattr_np(t, &attr), 0);
  void* addr = NULL;
  size_t size = 0;
  int state = -1;
  CHECK_RC(pthread_attr_getstack(&attr, &addr, &size), 0);
  CHECK_RC(pthread_attr_getdetachstate(&attr, &state), 0);
  CHECK_RC(pthread_attr_destroy(&attr), 0);
  CHECK_MSG(size >= SMALL_STACK && size <= SMALL_STACK + 64 * 1024,
            "256 KiB thread seen from main: stack of %zu bytes", size);
  CHECK(state == PTHREAD_CREATE_JOINABLE);
  uintptr_t main_local = (uintptr_t)&size;
  CHECK_MSG(main_local < (uintptr_t)addr || main_local >= (uintptr_t)addr + size,
            "another thread's stack contains main's local");
  atomic_store(&release, 1);
  CHECK_RC(pthread_join(t, NULL), 0);

  /* Main. */
  memset(&r, 0, sizeof r);
  report_self(&r);
  check_contains_local(&r, "main");
  CHECK(r.detach_state == PTHREAD_CREATE_JOINABLE);
}

/* ---- names -------------------------------------------------------------------------- */

static void check_names(void) {
  char buf[64];
  atomic_store(&release, 0);
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, waiting_body, NULL), 0);
  CHECK_RC(pthread_setname_np(t, "worker-one"), 0);
  CHECK_RC(pthread_getname_np(t, buf, sizeof buf), 0);
  CHECK_MSG(strcmp(buf, "worker-one") == 0, "name '%s'", buf);
  /* 15 characters fit, 16 do not. */
  CHECK_RC(pthread_setname_np(t, "fifteen-chars-x"), 0);
  CHECK_RC(pthread_getname_np(t, buf, sizeof buf), 0);
  CHECK_MSG(strcmp(buf, "fifteen-chars-x") == 0, "name '%s'", buf);
  CHECK_RC(pthread_setname_np(t, "sixteen-chars-xy"), ERANGE);
  CHECK_RC(pthread_setname_np(t, "a much longer name than that"), ERANGE);
  CHECK_RC(pthread_getname_np(t, buf, sizeof buf), 0);
  CHECK_MSG(strcmp(buf, "fifteen-chars-x") == 0, "name '%s' after a refused rename", buf);
  CHECK_RC(pthread_getname_np(t, buf, 8), ERANGE);
  atomic_store(&release, 1);
  CHECK_RC(pthread_join(t, NULL), 0);

  /* Main names itself. */
  CHECK_RC(pthread_setname_np(pthread_self(), "attrs-main"), 0);
  memset(buf, 'x', sizeof buf);
  CHECK_RC(pthread_getname_np(pthread_self(), buf, 16), 0);
  CHECK_MSG(strcmp(buf, "attrs-main") == 0, "main's name '%s'", buf);
  CHECK_RC(pthread_getname_np(pthread_self(), buf, 4), ERANGE);
}

/* ---- CPU-time clocks ------------------------------------------------------------------- */

static void* cpu_burner(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t* used = arg;
  clockid_t clock;
  CHECK_RC(pthread_getcpuclockid(pthread_self(), &clock), 0);
  struct timespec ts;
  CHECK(clock_gettime(clock, &ts) == 0);
  int64_t first = timespec_to_ns(&ts), now = first;
  int64_t give_up = now_ns() + 2 * NS_PER_S;
  while (now - first < 10 * NS_PER_MS) { /* burn 10 ms of this clock's time */
    CHECK_MSG(now_ns() < give_up, "a thread's CPU clock moved %.3f ms in 2 s of spinning",
              (double)(now - first) / NS_PER_MS);
    for (volatile int i = 0; i < 10000; i++) {
    }
    CHECK(clock_gettime(clock, &ts) == 0);
    now = timespec_to_ns(&ts);
  }
  *used = now - first;
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void check_cpu_clocks(void) {
  clockid_t clock;
  struct timespec ts;
  CHECK_RC(pthread_getcpuclockid(pthread_self(), &clock), 0);
  CHECK(clock_gettime(clock, &ts) == 0);
  CHECK(ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < NS_PER_S);

  int64_t used = 0;
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, cpu_burner, &used), 0);
  /* Main can read the other thread's clock too. */
  CHECK_RC(pthread_getcpuclockid(t, &clock), 0);
  CHECK(clock_gettime(clock, &ts) == 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK(used >= 10 * NS_PER_MS);
}

/* ---- scheduling parameters, priority, affinity, concurrency ---------------------------- */

static void check_sched_roundtrip(pthread_t t, int policy, int priority) {
  struct sched_param param = {.sched_priority = priority};
  CHECK_RC(pthread_setschedparam(t, policy, &param), 0);
  int got_policy = -1;
  struct sched_param got = {.sched_priority = -1};
  CHECK_RC(pthread_getschedparam(t, &got_policy, &got), 0);
  CHECK_MSG(got_policy == policy && got.sched_priority == priority,
            "set policy %d priority %d, got policy %d priority %d", policy, priority, got_policy,
            got.sched_priority);
}

static void check_sched(pthread_t t) {
  check_sched_roundtrip(t, SCHED_OTHER, 0);
  check_sched_roundtrip(t, SCHED_FIFO, 10);
  CHECK_RC(pthread_setschedprio(t, 20), 0);
  int policy = -1;
  struct sched_param got = {.sched_priority = -1};
  CHECK_RC(pthread_getschedparam(t, &policy, &got), 0);
  CHECK_MSG(policy == SCHED_FIFO && got.sched_priority == 20,
            "after setschedprio(20): policy %d priority %d", policy, got.sched_priority);
  struct sched_param param = {.sched_priority = 0};
  CHECK_RC(pthread_setschedparam(t, 12345, &param), EINVAL);
  CHECK_RC(pthread_getschedparam(t, &policy, &got), 0);
  CHECK_MSG(policy == SCHED_FIFO && got.sched_priority == 20,
            "after a refused setschedparam: policy %d priority %d", policy, got.sched_priority);
  check_sched_roundtrip(t, SCHED_OTHER, 0);

  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  CHECK_RC(pthread_setaffinity_np(t, sizeof set, &set), 0);
  CPU_ZERO(&set);
  CHECK_RC(pthread_getaffinity_np(t, sizeof set, &set), 0);
  CHECK_MSG(CPU_ISSET(0, &set), "affinity set to CPU 0, get returns a set without it");
}

static void check_sched_and_affinity(void) {
  /* Process affinity before, to restore it: CPU 0 may not be all we had. */
  cpu_set_t before;
  CHECK(sched_getaffinity(0, sizeof before, &before) == 0);
  CHECK_MSG(CPU_ISSET(0, &before), "CPU 0 is not available to this process");

  atomic_store(&release, 0);
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, waiting_body, NULL), 0);
  check_sched(t);
  atomic_store(&release, 1);
  CHECK_RC(pthread_join(t, NULL), 0);

  check_sched(pthread_self());
  CHECK_RC(pthread_setaffinity_np(pthread_self(), sizeof before, &before), 0);

  int old = pthread_getconcurrency();
  CHECK_MSG(old == 0, "initial concurrency level %d", old);
  CHECK_RC(pthread_setconcurrency(4), 0);
  CHECK(pthread_getconcurrency() == 4);
  CHECK_RC(pthread_setconcurrency(-1), EINVAL);
  CHECK(pthread_getconcurrency() == 4);
  CHECK_RC(pthread_setconcurrency(0), 0);
  CHECK(pthread_getconcurrency() == 0);
}

/* ---- tryjoin, timedjoin, clockjoin ---------------------------------------------------- */

static void* sleep_then_return(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  long ms = (long)arg;
  CHECK(usleep((useconds_t)ms * 1000) == 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return (void*)(ms + 1);
}

/* A 30 ms deadline on a thread that sleeps `sleep_ms`, then a generous one. */
static void check_timed_join(clockid_t clock, int use_clockjoin, long sleep_ms) {
  const char* what = use_clockjoin ? "pthread_clockjoin_np" : "pthread_timedjoin_np";
  pthread_t t;
  void* ret = NULL;
  CHECK_RC(pthread_create(&t, NULL, sleep_then_return, (void*)sleep_ms), 0);
  struct timespec deadline = deadline_after(clock, 30 * NS_PER_MS);
  int rc = use_clockjoin ? pthread_clockjoin_np(t, &ret, clock, &deadline)
                         : pthread_timedjoin_np(t, &ret, &deadline);
  int64_t now = clock_ns(clock);
  CHECK_MSG(rc == ETIMEDOUT, "%s on a thread sleeping %ld ms with a 30 ms deadline: %d (%s)", what,
            sleep_ms, rc, strerror(rc));
  CHECK_MSG(now >= timespec_to_ns(&deadline), "%s gave up %.3f ms early", what,
            (double)(timespec_to_ns(&deadline) - now) / NS_PER_MS);
  CHECK_MSG(now < timespec_to_ns(&deadline) + 2000 * NS_PER_MS, "%s gave up %.3f ms late", what,
            (double)(now - timespec_to_ns(&deadline)) / NS_PER_MS);
  /* The thread is still joinable; this time the deadline is generous. */
  deadline = deadline_after(clock, 2 * NS_PER_S);
  rc = use_clockjoin ? pthread_clockjoin_np(t, &ret, clock, &deadline)
                     : pthread_timedjoin_np(t, &ret, &deadline);
  CHECK_MSG(rc == 0, "%s with a 2 s deadline on a thread finishing after %ld ms: %d (%s)", what,
            sleep_ms, rc, strerror(rc));
  CHECK_MSG(ret == (void*)(sleep_ms + 1), "%s: return value %p", what, ret);

  /* A thread that finishes well in time. */
  CHECK_RC(pthread_create(&t, NULL, sleep_then_return, (void*)10L), 0);
  deadline = deadline_after(clock, 2 * NS_PER_S);
  ret = NULL;
  rc = use_clockjoin ? pthread_clockjoin_np(t, &ret, clock, &deadline)
                     : pthread_timedjoin_np(t, &ret, &deadline);
  CHECK_RC(rc, 0);
  CHECK_MSG(ret == (void*)11L, "%s: return value %p", what, ret);
  CHECK_MSG(clock_ns(clock) < timespec_to_ns(&deadline), "%s waited for the whole deadline", what);
}

static void check_joins(void) {
  /* tryjoin: EBUSY while it runs, 0 and its value once it has finished. */
  atomic_store(&release, 0);
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, waiting_body, (void*)42L), 0);
  void* ret = NULL;
  CHECK_RC(pthread_tryjoin_np(t, &ret), EBUSY);
  CHECK_RC(pthread_tryjoin_np(t, &ret), EBUSY);
  atomic_store(&release, 1);
  int64_t give_up = now_ns() + 2 * NS_PER_S;
  int rc;
  while ((rc = pthread_tryjoin_np(t, &ret)) == EBUSY) {
    CHECK_MSG(now_ns() < give_up, "pthread_tryjoin_np still EBUSY 2 s after the thread's release");
    usleep(1000);
  }
  CHECK_RC(rc, 0);
  CHECK(ret == (void*)42L);

  check_timed_join(CLOCK_REALTIME, 0, 300);
  check_timed_join(CLOCK_MONOTONIC, 1, 150);
  check_timed_join(CLOCK_REALTIME, 1, 100);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  check_getattr();
  check_names();
  check_cpu_clocks();
  check_sched_and_affinity();
  check_joins();
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "thread_attrs: getattr_np stack/guard/detach for default, 256 KiB, detached and main "
      "threads; names and ERANGE; CPU clocks; sched params/prio/affinity round trips; "
      "concurrency; tryjoin EBUSY then 0; timedjoin/clockjoin ETIMEDOUT not early, then 0 "
      "with the value; %.1f ms\n",
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
