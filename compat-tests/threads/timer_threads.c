/* POSIX timers that notify by starting a thread (SIGEV_THREAD), one-shot and
 * periodic, with their arguments and attributes, next to timers that send a
 * signal (SIGEV_SIGNAL, including a SIGALRM one), and timers that notify
 * nobody (SIGEV_NONE).
 *
 * glibc starts a helper thread of its own for SIGEV_THREAD timers, which
 * waits for a signal from the kernel timer and starts a thread per
 * expiration. The notification functions here note whether they ran on the
 * process's one kernel thread; that check, and the count of kernel threads,
 * come at the end, so a native run goes through every step before it fails
 * them.
 *
 *   timer_threads              everything above, and a fork child, which
 *                              inherits no timer and makes its own
 *   timer_threads main-exit    main arms a periodic timer and calls
 *                              pthread_exit: the armed timer keeps the
 *                              process going, as glibc's helper thread does,
 *                              and the fifth notification ends it with exit(0)
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

#define MS NS_PER_MS

/* Notifications that ran on a kernel thread other than the process's first. */
static atomic_int on_other_kernel_thread;

static void note_kernel_thread(void) {
  if (syscall(SYS_gettid) != getpid()) atomic_fetch_add(&on_other_kernel_thread, 1);
}

/* Each test has its own, in static storage: a notification already under
 * way when its timer is deleted may still come after the test returned. */
struct counter {
  atomic_int calls;
  sem_t posted; /* one post per call */
};

static void counter_init(struct counter* c) {
  atomic_store(&c->calls, 0);
  CHECK(sem_init(&c->posted, 0, 0) == 0);
}

static void count_call(union sigval v) {
  note_kernel_thread();
  struct counter* c = v.sival_ptr;
  atomic_fetch_add(&c->calls, 1);
  CHECK(sem_post(&c->posted) == 0);
}

/* Waits for `n` more calls, at most 5 s for each. A signal timer's handler
 * may interrupt the wait (EINTR: sem_timedwait is never restarted). */
static void wait_calls(struct counter* c, int n) {
  for (int i = 0; i < n; i++) {
    struct timespec until = deadline_after(CLOCK_REALTIME, 5 * NS_PER_S);
    int r;
    while ((r = sem_timedwait(&c->posted, &until)) != 0 && errno == EINTR) {
    }
    CHECK_MSG(r == 0, "call %d of %d did not come (%s)", i + 1, n, strerror(errno));
  }
}

static timer_t thread_timer(clockid_t clock, void (*function)(union sigval), void* arg,
                            pthread_attr_t* attr) {
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = function;
  ev.sigev_value.sival_ptr = arg;
  ev.sigev_notify_attributes = attr;
  timer_t t;
  CHECK_MSG(timer_create(clock, &ev, &t) == 0, "timer_create: %s", strerror(errno));
  return t;
}

static void arm(timer_t t, int flags, int64_t value_ns, int64_t interval_ns,
                struct itimerspec* old) {
  struct itimerspec spec = {ns_to_timespec(interval_ns), ns_to_timespec(value_ns)};
  CHECK_MSG(timer_settime(t, flags, &spec, old) == 0, "timer_settime: %s", strerror(errno));
}

static void disarm(timer_t t, struct itimerspec* old) { arm(t, 0, 0, 0, old); }

static struct itimerspec get(timer_t t) {
  struct itimerspec spec;
  CHECK_MSG(timer_gettime(t, &spec) == 0, "timer_gettime: %s", strerror(errno));
  return spec;
}

static void sleep_ms(int64_t ms) {
  struct timespec ts = ns_to_timespec(ms * MS);
  while (nanosleep(&ts, &ts) != 0) CHECK(errno == EINTR); /* a signal timer's handler ran */
}

/* ---- one-shot: one call, then the timer reads as disarmed ----------------------- */

static void check_one_shot(void) {
  static struct counter c;
  counter_init(&c);
  timer_t t = thread_timer(CLOCK_MONOTONIC, count_call, &c, NULL);
  struct itimerspec armed = get(t);
  CHECK(timespec_to_ns(&armed.it_value) == 0 && timespec_to_ns(&armed.it_interval) == 0);

  int64_t start = now_ns();
  arm(t, 0, 20 * MS, 0, NULL);
  struct itimerspec left = get(t);
  int64_t value = timespec_to_ns(&left.it_value);
  CHECK_MSG(value > 0 && value <= 20 * MS, "it_value %lld ns while armed for 20 ms",
            (long long)value);
  CHECK(timespec_to_ns(&left.it_interval) == 0);
  /* An untimed wait: the only thing that can end it is the notification. */
  CHECK(sem_wait(&c.posted) == 0);
  int64_t waited = now_ns() - start;
  CHECK_MSG(waited >= 20 * MS, "notified after %lld ns, armed for 20 ms", (long long)waited);
  sleep_ms(30);
  CHECK_MSG(atomic_load(&c.calls) == 1, "%d calls from a one-shot timer", atomic_load(&c.calls));
  struct itimerspec after = get(t);
  CHECK(timespec_to_ns(&after.it_value) == 0 && timespec_to_ns(&after.it_interval) == 0);

  /* Armed again, it fires again. */
  arm(t, 0, 5 * MS, 0, NULL);
  wait_calls(&c, 1);
  CHECK(timer_delete(t) == 0);
}

/* ---- periodic: calls keep coming until disarmed ------------------------------------ */

static void check_periodic(void) {
  static struct counter c;
  counter_init(&c);
  timer_t t = thread_timer(CLOCK_MONOTONIC, count_call, &c, NULL);
  int64_t start = now_ns();
  arm(t, 0, 10 * MS, 10 * MS, NULL);
  wait_calls(&c, 5);
  CHECK_MSG(now_ns() - start >= 50 * MS, "5 calls of a 10 ms timer in %lld ns",
            (long long)(now_ns() - start));
  struct itimerspec spec = get(t);
  int64_t value = timespec_to_ns(&spec.it_value);
  CHECK(timespec_to_ns(&spec.it_interval) == 10 * MS);
  CHECK_MSG(value > 0 && value <= 10 * MS, "it_value %lld ns of a 10 ms period", (long long)value);
  CHECK(timer_getoverrun(t) >= 0);

  struct itimerspec old;
  disarm(t, &old);
  CHECK(timespec_to_ns(&old.it_interval) == 10 * MS);
  CHECK(timespec_to_ns(&old.it_value) > 0 && timespec_to_ns(&old.it_value) <= 10 * MS);
  sleep_ms(30); /* a notification already under way may still start */
  int calls = atomic_load(&c.calls);
  sleep_ms(50);
  CHECK_MSG(atomic_load(&c.calls) == calls, "%d calls after disarming, %d before",
            atomic_load(&c.calls), calls);
  spec = get(t);
  CHECK(timespec_to_ns(&spec.it_value) == 0 && timespec_to_ns(&spec.it_interval) == 0);
  CHECK(timer_delete(t) == 0);
}

/* ---- disarmed before it expires: no call ------------------------------------------- */

static void check_disarm_early(void) {
  static struct counter c;
  counter_init(&c);
  timer_t t = thread_timer(CLOCK_REALTIME, count_call, &c, NULL);
  arm(t, 0, 30 * MS, 0, NULL);
  struct itimerspec old;
  disarm(t, &old);
  int64_t was = timespec_to_ns(&old.it_value);
  CHECK_MSG(was > 0 && was <= 30 * MS, "old it_value %lld ns", (long long)was);
  sleep_ms(80);
  CHECK_MSG(atomic_load(&c.calls) == 0, "a disarmed timer called %d time(s)",
            atomic_load(&c.calls));
  /* Moved earlier while armed: the new time counts. */
  arm(t, 0, 10 * NS_PER_S, 0, NULL);
  int64_t start = now_ns();
  arm(t, 0, 10 * MS, 0, NULL);
  wait_calls(&c, 1);
  CHECK_MSG(now_ns() - start < 5 * NS_PER_S, "re-armed timer kept its old time");
  CHECK(timer_delete(t) == 0);
}

/* ---- an absolute CLOCK_REALTIME time ------------------------------------------------ */

static void check_abstime(void) {
  static struct counter c;
  counter_init(&c);
  timer_t t = thread_timer(CLOCK_REALTIME, count_call, &c, NULL);
  int64_t start = now_ns();
  arm(t, TIMER_ABSTIME, clock_ns(CLOCK_REALTIME) + 30 * MS, 0, NULL);
  struct itimerspec spec = get(t); /* relative, though armed with an absolute time */
  CHECK(timespec_to_ns(&spec.it_value) > 0 && timespec_to_ns(&spec.it_value) <= 30 * MS);
  wait_calls(&c, 1);
  CHECK_MSG(now_ns() - start >= 29 * MS, "absolute 30 ms timer fired after %lld ns",
            (long long)(now_ns() - start));
  /* A time already past fires at once. */
  arm(t, TIMER_ABSTIME, clock_ns(CLOCK_REALTIME) - NS_PER_S, 0, NULL);
  wait_calls(&c, 1);
  CHECK(timer_delete(t) == 0);

  /* CLOCK_BOOTTIME, relative. */
  t = thread_timer(CLOCK_BOOTTIME, count_call, &c, NULL);
  arm(t, 0, 5 * MS, 0, NULL);
  wait_calls(&c, 1);
  CHECK(timer_delete(t) == 0);
}

/* ---- the notification thread: argument, attributes, signal mask -------------------- */

struct inspection {
  sem_t done;
  void* arg;
  int detached;      /* pthread_getattr_np's detach state */
  int detach_result; /* pthread_detach(pthread_self()) */
  size_t stack_size;
  int usr1_blocked;
  int is_main;
};

static pthread_t main_thread;

static void inspect(union sigval v) {
  note_kernel_thread();
  struct inspection* in = v.sival_ptr;
  in->arg = v.sival_ptr;
  pthread_attr_t attr;
  CHECK_RC(pthread_getattr_np(pthread_self(), &attr), 0);
  int state;
  CHECK_RC(pthread_attr_getdetachstate(&attr, &state), 0);
  in->detached = state == PTHREAD_CREATE_DETACHED;
  CHECK_RC(pthread_attr_getstacksize(&attr, &in->stack_size), 0);
  CHECK_RC(pthread_attr_destroy(&attr), 0);
  in->detach_result = pthread_detach(pthread_self());
  sigset_t mask;
  CHECK_RC(pthread_sigmask(SIG_SETMASK, NULL, &mask), 0);
  in->usr1_blocked = sigismember(&mask, SIGUSR1);
  in->is_main = pthread_equal(pthread_self(), main_thread);
  CHECK(sem_post(&in->done) == 0);
}

static void inspect_once(pthread_attr_t* attr, struct inspection* in) {
  memset(in, 0, sizeof *in);
  CHECK(sem_init(&in->done, 0, 0) == 0);
  timer_t t = thread_timer(CLOCK_MONOTONIC, inspect, in, attr);
  /* The attributes were copied: destroying them does not matter. */
  if (attr != NULL) CHECK_RC(pthread_attr_destroy(attr), 0);
  arm(t, 0, 2 * MS, 0, NULL);
  struct timespec until = deadline_after(CLOCK_REALTIME, 5 * NS_PER_S);
  CHECK_MSG(sem_timedwait(&in->done, &until) == 0, "no notification: %s", strerror(errno));
  CHECK(timer_delete(t) == 0);
  CHECK(in->arg == in);
  CHECK(!in->is_main);
  /* glibc makes every notification thread detached, whatever the attributes
   * say, and starts it with the mask of its helper thread: every signal
   * blocked. */
  CHECK_MSG(in->detached, "the notification thread is joinable");
  CHECK_RC(in->detach_result, EINVAL);
  CHECK_MSG(in->usr1_blocked, "SIGUSR1 not blocked in the notification thread");
}

static void check_notification_thread(void) {
  static struct inspection small, large, defaults;
  pthread_attr_t attr;
  /* The smaller stack first: glibc may reuse a larger stack it cached. */
  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED), 0);
  CHECK_RC(pthread_attr_setstacksize(&attr, 256 << 10), 0);
  inspect_once(&attr, &small);
  CHECK_MSG(small.stack_size >= (256 << 10) && small.stack_size <= (256 << 10) + (64 << 10),
            "stack of %zu bytes, 256 KiB asked for", small.stack_size);

  CHECK_RC(pthread_attr_init(&attr), 0);
  CHECK_RC(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_JOINABLE), 0);
  CHECK_RC(pthread_attr_setstacksize(&attr, 1 << 20), 0);
  inspect_once(&attr, &large);
  CHECK_MSG(large.stack_size >= (1 << 20) && large.stack_size <= (1 << 20) + (64 << 10),
            "stack of %zu bytes, 1 MiB asked for", large.stack_size);

  inspect_once(NULL, &defaults); /* the defaults: a stack of the default size */
  CHECK_MSG(defaults.stack_size > (1 << 20), "default stack of %zu bytes", defaults.stack_size);
}

/* ---- two timers at once, and one that deletes itself -------------------------------- */

static void check_two_timers(void) {
  static struct counter fast, slow;
  counter_init(&fast);
  counter_init(&slow);
  timer_t a = thread_timer(CLOCK_MONOTONIC, count_call, &fast, NULL);
  timer_t b = thread_timer(CLOCK_MONOTONIC, count_call, &slow, NULL);
  CHECK(a != b);
  arm(a, 0, 7 * MS, 7 * MS, NULL);
  arm(b, 0, 25 * MS, 0, NULL);
  wait_calls(&slow, 1);
  wait_calls(&fast, 3);
  CHECK(timer_delete(a) == 0);
  CHECK(timer_delete(b) == 0);
  CHECK(atomic_load(&slow.calls) == 1);
}

struct self_deleting {
  timer_t timer;
  atomic_int calls;
  sem_t done;
};

static void delete_on_third(union sigval v) {
  note_kernel_thread();
  struct self_deleting* s = v.sival_ptr;
  if (atomic_fetch_add(&s->calls, 1) + 1 == 3) {
    CHECK(timer_delete(s->timer) == 0);
    CHECK(sem_post(&s->done) == 0);
  }
}

static void check_self_delete(void) {
  static struct self_deleting s;
  CHECK(sem_init(&s.done, 0, 0) == 0);
  s.timer = thread_timer(CLOCK_MONOTONIC, delete_on_third, &s, NULL);
  arm(s.timer, 0, 20 * MS, 20 * MS, NULL);
  struct timespec until = deadline_after(CLOCK_REALTIME, 5 * NS_PER_S);
  CHECK(sem_timedwait(&s.done, &until) == 0);
  sleep_ms(60);
  CHECK_MSG(atomic_load(&s.calls) == 3, "%d calls from a timer deleted on the third",
            atomic_load(&s.calls));
}

/* ---- expirations while the notifications cannot keep up: overruns ------------------ */

static atomic_int overrun_calls, overrun_expirations;
static timer_t overrun_timer;

static void count_overruns(union sigval v) {
  (void)v;
  note_kernel_thread();
  int overrun = timer_getoverrun(overrun_timer);
  CHECK_MSG(overrun >= 0, "timer_getoverrun: %s", strerror(errno));
  atomic_fetch_add(&overrun_calls, 1);
  atomic_fetch_add(&overrun_expirations, 1 + overrun);
}

static void check_overruns(void) {
  overrun_timer = thread_timer(CLOCK_MONOTONIC, count_overruns, NULL, NULL);
  int64_t start = now_ns();
  arm(overrun_timer, 0, 1 * MS, 1 * MS, NULL);
  while (now_ns() - start < 100 * MS) {
  }            /* busy: the notifications compete with this thread for the CPU */
  sleep_ms(5); /* a notification comes even if nothing preempted this thread */
  disarm(overrun_timer, NULL);
  int64_t elapsed = now_ns() - start;
  sleep_ms(30);
  CHECK(timer_delete(overrun_timer) == 0);
  int calls = atomic_load(&overrun_calls), expirations = atomic_load(&overrun_expirations);
  CHECK_MSG(calls >= 1, "no notification from a 1 ms timer in 100 ms");
  /* Each expiration is a call or an overrun of one, never both (the native
   * count may read an overrun twice, hence the slack). */
  CHECK_MSG(expirations <= 2 * (elapsed / MS) + 5, "%d expirations in %lld ms", expirations,
            (long long)(elapsed / MS));
  printf("timer_threads: 1 ms timer for %lld ms: %d notifications, %d expirations\n",
         (long long)(elapsed / MS), calls, expirations);
}

/* ---- signal timers and notify-nobody timers alongside ------------------------------- */

static atomic_int usr1_calls, alrm_calls, bad_siginfo;

static void on_timer_signal(int sig, siginfo_t* info, void* ucontext) {
  (void)ucontext;
  if (sig == SIGUSR1) {
    if (info->si_code != SI_TIMER || info->si_value.sival_int != 42) {
      atomic_fetch_add(&bad_siginfo, 1);
    }
    atomic_fetch_add(&usr1_calls, 1);
  } else {
    /* sival_int 1 is also what ptshim once tagged its own ticks with. A
     * SIGALRM that came while a thread blocking it ran (a notification
     * thread blocks every signal) may be raised again later without its
     * siginfo, so only a timer's siginfo is checked. */
    if (info->si_code == SI_TIMER && info->si_value.sival_int != 1) {
      atomic_fetch_add(&bad_siginfo, 1);
    }
    atomic_fetch_add(&alrm_calls, 1);
  }
}

static timer_t signal_timer(int sig, int value) {
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = sig;
  ev.sigev_value.sival_int = value;
  timer_t t;
  CHECK_MSG(timer_create(CLOCK_MONOTONIC, &ev, &t) == 0, "timer_create: %s", strerror(errno));
  /* glibc hands out the kernel's timer id, a small non-negative number. */
  CHECK_MSG((intptr_t)t >= 0 && (intptr_t)t <= INT32_MAX, "kernel timer id %p", t);
  return t;
}

static void check_signal_timers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_timer_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  CHECK(sigaction(SIGALRM, &sa, NULL) == 0);

  static struct counter c;
  counter_init(&c);
  timer_t thread = thread_timer(CLOCK_MONOTONIC, count_call, &c, NULL);
  timer_t usr1 = signal_timer(SIGUSR1, 42);
  timer_t alrm = signal_timer(SIGALRM, 1);
  CHECK(usr1 != thread && alrm != thread && usr1 != alrm);
  arm(thread, 0, 5 * MS, 5 * MS, NULL);
  arm(usr1, 0, 5 * MS, 5 * MS, NULL);
  arm(alrm, 0, 7 * MS, 7 * MS, NULL);
  struct itimerspec spec = get(usr1);
  CHECK(timespec_to_ns(&spec.it_interval) == 5 * MS);
  wait_calls(&c, 3);
  int64_t give_up = now_ns() + 5 * NS_PER_S;
  while (atomic_load(&usr1_calls) < 3 || atomic_load(&alrm_calls) < 3) {
    CHECK_MSG(now_ns() < give_up, "signal timers: %d SIGUSR1, %d SIGALRM", atomic_load(&usr1_calls),
              atomic_load(&alrm_calls));
    sleep_ms(1);
  }
  CHECK(timer_getoverrun(usr1) >= 0);
  CHECK(timer_delete(usr1) == 0);
  CHECK(timer_delete(alrm) == 0);
  CHECK(timer_delete(thread) == 0);
  CHECK_MSG(atomic_load(&bad_siginfo) == 0, "%d signals with an unexpected siginfo",
            atomic_load(&bad_siginfo));
  errno = 0;
  CHECK(timer_delete(usr1) == -1 && errno == EINVAL);

  /* SIGEV_NONE: nobody is told, but the time runs. */
  struct sigevent none;
  memset(&none, 0, sizeof none);
  none.sigev_notify = SIGEV_NONE;
  timer_t quiet;
  CHECK(timer_create(CLOCK_MONOTONIC, &none, &quiet) == 0);
  arm(quiet, 0, NS_PER_S, 0, NULL);
  spec = get(quiet);
  CHECK(timespec_to_ns(&spec.it_value) > NS_PER_S / 2);
  CHECK(timer_delete(quiet) == 0);

  /* No sigevent: SIGALRM with the timer's id; only created here. */
  timer_t plain;
  CHECK(timer_create(CLOCK_MONOTONIC, NULL, &plain) == 0);
  CHECK(timer_delete(plain) == 0);
}

/* ---- fork: the child inherits no timer, and makes its own -------------------------- */

static void check_fork(void) {
  static struct counter c;
  counter_init(&c);
  timer_t parents = thread_timer(CLOCK_MONOTONIC, count_call, &c, NULL);
  arm(parents, 0, 10 * MS, 10 * MS, NULL);
  wait_calls(&c, 1);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    /* The parent's timer does not exist here (POSIX: timers are not
     * inherited), and nothing of it calls this child. */
    struct itimerspec spec = {{0, 0}, {0, 5 * MS}};
    int calls = atomic_load(&c.calls);
    errno = 0;
    if (timer_settime(parents, 0, &spec, NULL) != -1 || errno != EINVAL) _exit(10);
    struct counter mine;
    counter_init(&mine);
    timer_t t = thread_timer(CLOCK_MONOTONIC, count_call, &mine, NULL);
    arm(t, 0, 5 * MS, 0, NULL);
    wait_calls(&mine, 1);
    sleep_ms(30);
    if (atomic_load(&c.calls) != calls) _exit(11);
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the fork child ended with status %#x",
            status);
  CHECK(timer_delete(parents) == 0);
}

/* ---- errors, as glibc and the kernel report them ------------------------------------ */

static int create_errno(clockid_t clock, int notify) {
  struct sigevent ev;
  memset(&ev, 0, sizeof ev);
  ev.sigev_notify = notify;
  ev.sigev_notify_function = count_call;
  timer_t t;
  errno = 0;
  if (timer_create(clock, &ev, &t) == 0) {
    CHECK(timer_delete(t) == 0);
    return 0;
  }
  return errno;
}

static int settime_errno(timer_t t, time_t value_sec, long value_nsec, long interval_nsec) {
  struct itimerspec spec = {{0, interval_nsec}, {value_sec, value_nsec}};
  errno = 0;
  return timer_settime(t, 0, &spec, NULL) == 0 ? 0 : errno;
}

static void check_errors(void) {
  CHECK_RC(create_errno(12345, SIGEV_THREAD), EINVAL);
  CHECK_RC(create_errno(CLOCK_MONOTONIC_RAW, SIGEV_THREAD), ENOTSUP);
  CHECK_RC(create_errno(CLOCK_MONOTONIC, 99), EINVAL);
  CHECK_RC(create_errno(CLOCK_TAI, SIGEV_THREAD), 0);
  /* Natively supported; ptshim answers ENOTSUP (see docs/design.md). */
  int cpu = create_errno(CLOCK_PROCESS_CPUTIME_ID, SIGEV_THREAD);
  CHECK_MSG(cpu == 0 || cpu == ENOTSUP, "CPU-time clock: %s", strerror(cpu));

  static struct counter c;
  counter_init(&c);
  timer_t t = thread_timer(CLOCK_MONOTONIC, count_call, &c, NULL);
  CHECK_RC(settime_errno(t, 0, 2000000000, 0), EINVAL);
  CHECK_RC(settime_errno(t, -1, 0, 0), EINVAL);
  CHECK_RC(settime_errno(t, 0, 0, -1), EINVAL); /* even to disarm */
  errno = 0;
  CHECK(timer_settime(t, 0, NULL, NULL) == -1 && errno == EINVAL);
  CHECK(atomic_load(&c.calls) == 0);
  CHECK(timer_delete(t) == 0);
}

/* ---- main ---------------------------------------------------------------------------- */

static void check_kernel_threads(void) {
#ifndef COMPAT_LOGIC_ONLY /* check.h: trying the logic on native threads */
  CHECK_MSG(atomic_load(&on_other_kernel_thread) == 0,
            "%d notification(s) ran on another kernel thread, but the process must use only "
            "one kernel thread",
            atomic_load(&on_other_kernel_thread));
#endif
  CHECK_ONE_KERNEL_THREAD();
}

static atomic_int after_main_calls;

static void after_main(union sigval v) {
  (void)v;
  note_kernel_thread();
  if (atomic_fetch_add(&after_main_calls, 1) + 1 < 5) return;
  check_kernel_threads();
  printf("timer_threads: 5 notifications after main's pthread_exit\n");
  fflush(stdout);
  exit(0);
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  main_thread = pthread_self();
  if (argc > 1 && strcmp(argv[1], "main-exit") == 0) {
    timer_t t = thread_timer(CLOCK_MONOTONIC, after_main, NULL, NULL);
    arm(t, 0, 5 * MS, 5 * MS, NULL);
    pthread_exit(NULL);
  }
  check_one_shot();
  check_periodic();
  check_disarm_early();
  check_abstime();
  check_notification_thread();
  check_two_timers();
  check_self_delete();
  check_overruns();
  check_signal_timers();
  check_fork();
  check_errors();
  check_kernel_threads();
  printf(
      "timer_threads: one-shot, periodic, absolute, attributes, two timers, signal timers, "
      "fork ok\n");
  return 0;
}
