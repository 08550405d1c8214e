/* Every thread blocked, nothing asleep, and yet a signal can still end the
 * wait: programs do this on purpose and expect what happens natively.
 *   mutex_alarm   a normal mutex locked twice with alarm(1) pending: killed
 *                 by SIGALRM;
 *   spin_alarm    a spin lock taken twice by its holder, alarm(1): SIGALRM;
 *   timer_signal  a normal mutex locked twice, a POSIX timer that sends
 *                 SIGUSR2 (default action) in 1 s: killed by SIGUSR2;
 *   alarm_jump    a thread locks a normal mutex twice with alarm(1) pending and
 *                 a SIGALRM handler that siglongjmps out of the wait; the mutex
 *                 is then unlocked and locked again, and the program goes on;
 *   usr1_handler  two threads deadlock on two mutexes, main joins one; a
 *                 child process sends SIGUSR1, whose handler _exit(0)s;
 *   sigwait_all   every thread waits in sigwait for its own signal, which a
 *                 child process sends: they all return and main exits 0;
 *   outside_term  a normal mutex locked twice with nothing armed and no
 *                 handler; a child sends SIGTERM after 1 s (under ptshim that
 *                 is a fatal deadlock report, unless PTSHIM_DEADLOCK=warn).
 * The blocking happens in a created thread after its one-kernel-thread check,
 * so natively the program fails that check first, as the harness expects. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static pthread_mutex_t self_locked = PTHREAD_MUTEX_INITIALIZER; /* a normal mutex */
static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;
static pthread_spinlock_t spin;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * NS_PER_MS};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* A child that sends `sigs` (0-terminated) to its parent, `gap_ms` apart. */
static void signal_from_child(const int* sigs, long gap_ms) {
  pid_t parent = getpid();
  pid_t child = fork();
  CHECK(child >= 0);
  if (child != 0) return;
  for (; *sigs != 0; ++sigs) {
    struct timespec ts = {gap_ms / 1000, (gap_ms % 1000) * NS_PER_MS};
    nanosleep(&ts, NULL);
    kill(parent, *sigs);
  }
  _exit(0);
}

static void* lock_twice(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&self_locked), 0);
  pthread_mutex_lock(&self_locked); /* a normal mutex: waits forever */
  CHECK_MSG(0, "a normal mutex was locked twice");
  return NULL;
}

static sigjmp_buf out_of_the_wait;

static void jump_out(int sig) {
  (void)sig;
  siglongjmp(out_of_the_wait, 1);
}

/* Main blocks SIGALRM, so the alarm comes to this thread, as natively. */
static void* lock_twice_and_jump(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &alrm, NULL), 0);
  struct sigaction sa = {0};
  sa.sa_handler = jump_out;
  CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
  if (sigsetjmp(out_of_the_wait, 1) == 0) {
    alarm(1);
    CHECK_RC(pthread_mutex_lock(&self_locked), 0);
    pthread_mutex_lock(&self_locked);
    CHECK_MSG(0, "a normal mutex was locked twice");
  }
  CHECK_RC(pthread_mutex_unlock(&self_locked), 0);
  CHECK_RC(pthread_mutex_lock(&self_locked), 0);
  CHECK_RC(pthread_mutex_unlock(&self_locked), 0);
  return NULL;
}

static void* spin_twice(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_spin_lock(&spin), 0);
  pthread_spin_lock(&spin);
  CHECK_MSG(0, "a spin lock was taken twice");
  return NULL;
}

struct order {
  pthread_mutex_t *a, *b;
};

static void* take_both(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct order* o = arg;
  CHECK_RC(pthread_mutex_lock(o->a), 0);
  sleep_ms(20); /* the other thread takes its first mutex meanwhile */
  pthread_mutex_lock(o->b);
  CHECK_MSG(0, "got both mutexes: the deadlock did not happen");
  return NULL;
}

static void usr1_exit(int sig) {
  (void)sig;
  static const char line[] = "deadlock_wakeups: SIGUSR1 handler runs\n";
  if (write(STDOUT_FILENO, line, sizeof line - 1) < 0) _exit(3);
  _exit(0);
}

static void* wait_for(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int want = *(int*)arg, got = 0;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, want);
  CHECK_RC(sigwait(&set, &got), 0);
  CHECK_MSG(got == want, "sigwait took %d, want %d", got, want);
  return NULL;
}

static void join_forever(pthread_t t) {
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_MSG(0, "joined a thread that should wait forever");
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK(argc == 2);
  const char* mode = argv[1];
  pthread_t t;
  if (strcmp(mode, "mutex_alarm") == 0) {
    alarm(1);
    CHECK_RC(pthread_create(&t, NULL, lock_twice, NULL), 0);
    join_forever(t);
  } else if (strcmp(mode, "alarm_jump") == 0) {
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &alrm, NULL), 0);
    CHECK_RC(pthread_create(&t, NULL, lock_twice_and_jump, NULL), 0);
    CHECK_RC(pthread_join(t, NULL), 0);
    printf("deadlock_wakeups: the handler jumped out of the wait\n");
    CHECK_ONE_KERNEL_THREAD();
  } else if (strcmp(mode, "spin_alarm") == 0) {
    CHECK_RC(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE), 0);
    alarm(1);
    CHECK_RC(pthread_create(&t, NULL, spin_twice, NULL), 0);
    join_forever(t);
  } else if (strcmp(mode, "timer_signal") == 0) {
    struct sigevent how = {0};
    how.sigev_notify = SIGEV_SIGNAL;
    how.sigev_signo = SIGUSR2;
    timer_t timer;
    CHECK(timer_create(CLOCK_MONOTONIC, &how, &timer) == 0);
    struct itimerspec in_1s = {{0, 0}, {1, 0}};
    CHECK(timer_settime(timer, 0, &in_1s, NULL) == 0);
    CHECK_RC(pthread_create(&t, NULL, lock_twice, NULL), 0);
    join_forever(t);
  } else if (strcmp(mode, "usr1_handler") == 0) {
    struct sigaction sa = {0};
    sa.sa_handler = usr1_exit;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    static const int sigs[] = {SIGUSR1, 0};
    signal_from_child(sigs, 500);
    static struct order forward = {&first, &second}, backward = {&second, &first};
    pthread_t t2;
    CHECK_RC(pthread_create(&t, NULL, take_both, &forward), 0);
    CHECK_RC(pthread_create(&t2, NULL, take_both, &backward), 0);
    join_forever(t);
  } else if (strcmp(mode, "sigwait_all") == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGHUP);
    CHECK_RC(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    static int usr1 = SIGUSR1, usr2 = SIGUSR2, hup = SIGHUP;
    pthread_t t2;
    CHECK_RC(pthread_create(&t, NULL, wait_for, &usr1), 0);
    CHECK_RC(pthread_create(&t2, NULL, wait_for, &usr2), 0);
    static const int sigs[] = {SIGUSR1, SIGUSR2, SIGHUP, 0};
    signal_from_child(sigs, 300);
    wait_for(&hup);
    CHECK_RC(pthread_join(t, NULL), 0);
    CHECK_RC(pthread_join(t2, NULL), 0);
    printf("deadlock_wakeups: every sigwait returned\n");
    CHECK_ONE_KERNEL_THREAD();
  } else if (strcmp(mode, "outside_term") == 0) {
    static const int sigs[] = {SIGTERM, 0};
    signal_from_child(sigs, 1000);
    CHECK_RC(pthread_create(&t, NULL, lock_twice, NULL), 0);
    join_forever(t);
  } else {
    CHECK_MSG(0, "unknown mode %s", mode);
  }
  return 0;
}
