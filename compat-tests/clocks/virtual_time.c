/* Every kind of timed wait at once, each in its own thread, with one deadline
 * each (1.5 s to 65 s), plus a thread that spins on the clock for 0.5 s and a
 * SIGEV_THREAD timer at 20 s. Each thread measures its own wait and appends
 * its name to a log when it wakes; main prints the log and each wait's
 * elapsed time in whole milliseconds, the calendar time it started at, and
 * checks that every wait took at least what it asked for and less than
 * 1 ms more, that the waits ended in the order of their deadlines, and that
 * CPU time went to the spinner, not to the sleepers. Before any of them, the
 * original thread alone waits in poll and in a futex(2) call with timeouts.
 *
 * argv[1]: the scale in percent of every deadline (default 100). */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { kWaits = 12 };
static int64_t scale_percent = 100;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char wake_log[kWaits * 24];
static int64_t elapsed_ms[kWaits];
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER; /* main holds it throughout */
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_signalled = PTHREAD_COND_INITIALIZER;
static sem_t never_posted;
static int pipe_fds[2];
static int64_t spinner_cpu_ns;
static volatile int timer_fired;
static int64_t timer_started_ns;

struct wait_kind {
  const char* name;
  int64_t ms; /* the deadline, before scaling */
};
static const struct wait_kind waits[kWaits] = {
    {"spin", 500},          {"select", 1500},        {"nanosleep", 2500},
    {"sleep", 3000},        {"timedlock", 4000},     {"cond_timedwait", 5000},
    {"poll", 6000},         {"sem_timedwait", 7000}, {"clock_nanosleep_abs", 8000},
    {"sigtimedwait", 9000}, {"usleep", 10000},       {"timer", 20000},
};
static int64_t scaled_ns(int i) { return waits[i].ms * scale_percent / 100 * NS_PER_MS; }

static void record(int i, int64_t start_ns) {
  int64_t elapsed = now_ns() - start_ns;
  CHECK_MSG(elapsed >= scaled_ns(i), "%s: %lld ns, asked for %lld", waits[i].name,
            (long long)elapsed, (long long)scaled_ns(i));
  pthread_mutex_lock(&log_lock);
  elapsed_ms[i] = elapsed / NS_PER_MS;
  strcat(wake_log, " ");
  strcat(wake_log, waits[i].name);
  pthread_mutex_unlock(&log_lock);
}

static void* waiter(void* arg) {
  int i = (int)(long)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  int64_t ns = scaled_ns(i);
  struct timespec rel = ns_to_timespec(ns);
  const char* name = waits[i].name;
  if (strcmp(name, "spin") == 0) {
    int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    while (now_ns() - start < ns) {
    }
    spinner_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  } else if (strcmp(name, "select") == 0) {
    struct timeval tv = {(time_t)(ns / NS_PER_S), (suseconds_t)(ns % NS_PER_S / 1000)};
    fd_set r;
    FD_ZERO(&r);
    FD_SET(pipe_fds[0], &r);
    CHECK_RC(select(pipe_fds[0] + 1, &r, NULL, NULL, &tv), 0);
  } else if (strcmp(name, "nanosleep") == 0) {
    CHECK_RC(nanosleep(&rel, NULL), 0);
  } else if (strcmp(name, "sleep") == 0) {
    CHECK_RC((int)sleep((unsigned)(ns / NS_PER_S)), 0);
  } else if (strcmp(name, "timedlock") == 0) {
    struct timespec until = deadline_after(CLOCK_REALTIME, ns);
    CHECK_RC(pthread_mutex_timedlock(&held, &until), ETIMEDOUT);
  } else if (strcmp(name, "cond_timedwait") == 0) {
    struct timespec until = deadline_after(CLOCK_REALTIME, ns);
    pthread_mutex_lock(&cond_lock);
    CHECK_RC(pthread_cond_timedwait(&never_signalled, &cond_lock, &until), ETIMEDOUT);
    pthread_mutex_unlock(&cond_lock);
  } else if (strcmp(name, "poll") == 0) {
    struct pollfd p = {pipe_fds[0], POLLIN, 0};
    CHECK_RC(poll(&p, 1, (int)(ns / NS_PER_MS)), 0);
  } else if (strcmp(name, "sem_timedwait") == 0) {
    struct timespec until = deadline_after(CLOCK_REALTIME, ns);
    CHECK(sem_timedwait(&never_posted, &until) == -1 && errno == ETIMEDOUT);
  } else if (strcmp(name, "clock_nanosleep_abs") == 0) {
    struct timespec until = ns_to_timespec(start + ns);
    CHECK_RC(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL), 0);
  } else if (strcmp(name, "sigtimedwait") == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    CHECK(sigtimedwait(&set, NULL, &rel) == -1 && errno == EAGAIN);
  } else if (strcmp(name, "usleep") == 0) {
    /* usleep takes at most a second on some systems: ten of them. */
    for (int k = 0; k < 10; k++) CHECK_RC(usleep((useconds_t)(ns / 10 / 1000)), 0);
  }
  record(i, start);
  return NULL;
}

static void* check_kernel_thread(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

static void on_timer(union sigval v) {
  (void)v;
  CHECK_ON_MAIN_KERNEL_THREAD();
  record(kWaits - 1, timer_started_ns);
  timer_fired = 1;
}

int main(int argc, char** argv) {
  if (argc > 1) scale_percent = atoll(argv[1]);
  CHECK(scale_percent > 0);
  CHECK_RC(pipe(pipe_fds), 0);
  CHECK_RC(sem_init(&never_posted, 0, 0), 0);
  pthread_mutex_lock(&held);

  time_t started = time(NULL);
  struct tm tm;
  char when[64];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&started, &tm));
  struct timeval tv;
  gettimeofday(&tv, NULL);
  CHECK(tv.tv_sec - started <= 1);
  printf("virtual_time: started at %s\n", when);

  /* Alone (the checker thread has ended), the waits of a lone thread. */
  pthread_t checker;
  CHECK_RC(pthread_create(&checker, NULL, check_kernel_thread, NULL), 0);
  CHECK_RC(pthread_join(checker, NULL), 0);
  int64_t lone = now_ns();
  CHECK_RC(poll(NULL, 0, (int)(2000 * scale_percent / 100)), 0);
  printf("virtual_time: alone, poll %lld ms\n", (long long)((now_ns() - lone) / NS_PER_MS));
  lone = now_ns();
  uint32_t word = 0;
  struct timespec futex_timeout = ns_to_timespec(1000 * NS_PER_MS * scale_percent / 100);
  CHECK(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &futex_timeout, NULL, 0) == -1 &&
        errno == ETIMEDOUT);
  printf("virtual_time: alone, futex %lld ms\n", (long long)((now_ns() - lone) / NS_PER_MS));

  int64_t start = now_ns();

  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = on_timer;
  timer_t timer;
  CHECK_RC(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
  struct itimerspec its = {{0, 0}, ns_to_timespec(scaled_ns(kWaits - 1))};
  timer_started_ns = now_ns();
  CHECK_RC(timer_settime(timer, 0, &its, NULL), 0);

  pthread_t threads[kWaits - 1];
  /* The spinner last: the others start their waits before it spins. */
  for (int i = kWaits - 2; i >= 0; i--) {
    CHECK_RC(pthread_create(&threads[i], NULL, waiter, (void*)(long)i), 0);
  }
  for (int i = 0; i < kWaits - 1; i++) CHECK_RC(pthread_join(threads[i], NULL), 0);
  /* The timer comes last: a long sleep, meanwhile, takes the run past 60 s. */
  struct timespec long_sleep = ns_to_timespec(55 * NS_PER_S * scale_percent / 100);
  CHECK_RC(nanosleep(&long_sleep, NULL), 0);
  CHECK(timer_fired);
  timer_delete(timer);
  pthread_mutex_unlock(&held);

  int64_t total = now_ns() - start;
  printf("virtual_time: woke in order:%s\n", wake_log);
  for (int i = 0; i < kWaits; i++) {
    printf("virtual_time: %s %lld ms\n", waits[i].name, (long long)elapsed_ms[i]);
    CHECK_MSG(elapsed_ms[i] == waits[i].ms * scale_percent / 100, "%s took %lld ms, wanted %lld",
              waits[i].name, (long long)elapsed_ms[i],
              (long long)(waits[i].ms * scale_percent / 100));
  }
  char expected[sizeof wake_log] = "";
  for (int i = 0; i < kWaits; i++) {
    strcat(expected, " ");
    strcat(expected, waits[i].name);
  }
  CHECK_MSG(strcmp(wake_log, expected) == 0, "woke in order%s", wake_log);
  printf("virtual_time: total %lld ms\n", (long long)(total / NS_PER_MS));

  /* CPU time: the spinner's spin is its own; the process used about that. */
  struct rusage ru;
  CHECK_RC(getrusage(RUSAGE_SELF, &ru), 0);
  int64_t process_cpu = cpu_ns();
  CHECK_MSG(spinner_cpu_ns >= scaled_ns(0) * 9 / 10, "spinner CPU %lld ns",
            (long long)spinner_cpu_ns);
  CHECK_MSG(process_cpu < total / 2, "process CPU %lld ns of %lld", (long long)process_cpu,
            (long long)total);
  CHECK_MSG(ru.ru_utime.tv_sec * NS_PER_S + ru.ru_utime.tv_usec * 1000 +
                    ru.ru_stime.tv_sec * NS_PER_S + ru.ru_stime.tv_usec * 1000 <
                total / 2,
            "getrusage: %lld.%06lld s of user time", (long long)ru.ru_utime.tv_sec,
            (long long)ru.ru_utime.tv_usec);
  printf("virtual_time: CPU time went to the spinner\n");
  CHECK_ONE_KERNEL_THREAD();
  printf("virtual_time: all %d waits ended on time\n", kWaits);
  return 0;
}
