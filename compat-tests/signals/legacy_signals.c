/* The older and rarer signal calls, between user threads: sigset / sighold
 * / sigrelse / sigpause (System V), sysv_signal (one-shot), siginterrupt,
 * sigpending and pthread_sigqueue. glibc's own versions of the System V
 * calls reach the kernel behind the interposed sigaction, sigprocmask and
 * sigsuspend, so each must be seen to keep a thread's mask and to wake a
 * thread that waits. The one-kernel-thread check comes at the end. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "check.h"

/* These are the deprecated calls under test. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static pthread_t target;
static atomic_int on_target, elsewhere, last_value;
static atomic_long tid;

static void count(void) {
  if (pthread_equal(pthread_self(), target)) {
    atomic_fetch_add(&on_target, 1);
  } else {
    atomic_fetch_add(&elsewhere, 1);
  }
}
static void on_signal(int sig) {
  (void)sig;
  count();
}
static void on_queued(int sig, siginfo_t* info, void* uc) {
  (void)sig;
  (void)uc;
  count();
  atomic_store(&last_value, info->si_value.sival_int);
}

static int blocks(int sig) {
  sigset_t now;
  CHECK_RC(pthread_sigmask(SIG_BLOCK, NULL, &now), 0);
  return sigismember(&now, sig);
}

/* sigpause in a thread that holds SIGUSR1: the signal pthread_kill'ed to it
 * must end the wait after the handler ran, and leave it held again. */
static void* pauser(void* arg) {
  (void)arg;
  atomic_store(&tid, syscall(SYS_gettid));
  CHECK(sighold(SIGUSR1) == 0);
  CHECK(blocks(SIGUSR1));
  CHECK(sigset(SIGUSR1, on_signal) == SIG_HOLD); /* it was held; sigset releases it */
  CHECK(!blocks(SIGUSR1));
  CHECK(sigset(SIGUSR1, SIG_HOLD) == on_signal);
  CHECK(blocks(SIGUSR1));
  errno = 0;
  int rc = sigpause(SIGUSR1);
  CHECK_MSG(rc == -1 && errno == EINTR, "sigpause returned %d, errno %d", rc, errno);
  CHECK(blocks(SIGUSR1));
  CHECK(sigrelse(SIGUSR1) == 0);
  CHECK(!blocks(SIGUSR1));
  return NULL;
}

/* A read that a handler without SA_RESTART (siginterrupt) interrupts. */
static int pipe_fds[2];
static void* reader(void* arg) {
  (void)arg;
  char c;
  errno = 0;
  ssize_t n = read(pipe_fds[0], &c, 1);
  return (void*)(long)(n < 0 ? errno : 0);
}

static void wait_count(int want) {
  int64_t give_up = now_ns() + 5 * NS_PER_S;
  while (atomic_load(&on_target) < want && now_ns() < give_up) usleep(1000);
  CHECK_MSG(atomic_load(&on_target) == want, "the handler ran %d times on the target, want %d",
            atomic_load(&on_target), want);
}

int main(void) {
  /* sigset / sighold / sigpause / sigrelse */
  CHECK_RC(pthread_create(&target, NULL, pauser, NULL), 0);
  usleep(50 * 1000);
  CHECK_RC(pthread_kill(target, SIGUSR1), 0);
  CHECK_RC(pthread_join(target, NULL), 0);
  CHECK_MSG(atomic_load(&on_target) == 1, "the sigpause handler ran %d times",
            atomic_load(&on_target));

  /* sysv_signal: one-shot, on the thread it was raised for */
  target = pthread_self();
  atomic_store(&on_target, 0);
  CHECK(sysv_signal(SIGUSR2, on_signal) != SIG_ERR);
  CHECK_RC(pthread_kill(target, SIGUSR2), 0);
  CHECK(atomic_load(&on_target) == 1);
  struct sigaction now;
  CHECK(sigaction(SIGUSR2, NULL, &now) == 0);
  CHECK_MSG(now.sa_handler == SIG_DFL, "a one-shot handler stayed installed");

  /* siginterrupt: a read interrupted by the handler fails with EINTR */
  CHECK(signal(SIGUSR1, on_signal) != SIG_ERR);
  CHECK(siginterrupt(SIGUSR1, 1) == 0);
  CHECK(pipe(pipe_fds) == 0);
  atomic_store(&on_target, 0);
  CHECK_RC(pthread_create(&target, NULL, reader, NULL), 0);
  usleep(50 * 1000);
  CHECK_RC(pthread_kill(target, SIGUSR1), 0);
  void* err = NULL;
  CHECK_RC(pthread_join(target, &err), 0);
  CHECK_MSG((long)err == EINTR, "the read ended with %ld, want EINTR", (long)err);
  CHECK(atomic_load(&on_target) == 1);

  /* sigpending: a signal pthread_kill'ed to a thread that blocks it */
  target = pthread_self();
  atomic_store(&on_target, 0);
  sigset_t usr1, pending;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &usr1, NULL), 0);
  CHECK_RC(pthread_kill(target, SIGUSR1), 0);
  CHECK(sigpending(&pending) == 0);
  CHECK_MSG(sigismember(&pending, SIGUSR1) == 1, "sigpending does not show the held SIGUSR1");
  CHECK(atomic_load(&on_target) == 0);
  CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL), 0);
  CHECK_MSG(atomic_load(&on_target) == 1, "unblocking did not run the held signal's handler");

  /* pthread_sigqueue: the value reaches an SA_SIGINFO handler */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_queued;
  sa.sa_flags = SA_SIGINFO;
  CHECK(sigaction(SIGRTMIN, &sa, NULL) == 0);
  union sigval value = {.sival_int = 4242};
  CHECK_RC(pthread_sigqueue(target, SIGRTMIN, value), 0);
  wait_count(2);
  CHECK_MSG(atomic_load(&last_value) == 4242, "the handler saw value %d", atomic_load(&last_value));

  CHECK_MSG(atomic_load(&elsewhere) == 0, "a handler ran %d times on another thread",
            atomic_load(&elsewhere));
  CHECK_MSG(atomic_load(&tid) == getpid(),
            "a thread ran on kernel thread %ld, but the process (pid %ld) must use only one "
            "kernel thread",
            atomic_load(&tid), (long)getpid());
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "legacy_signals: sigset/sighold/sigpause/sigrelse, sysv_signal, siginterrupt, "
      "sigpending, pthread_sigqueue ok\n");
  return 0;
}
