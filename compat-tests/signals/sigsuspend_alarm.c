/* The classic sleep built from SIGALRM: block SIGALRM, arm a timer, then
 * sigsuspend with SIGALRM let through until the handler has run. ptshim
 * keeps SIGALRM unblocked in the kernel (its ticks), so it holds the
 * program's blocked SIGALRM itself; sigsuspend must still see it, both when
 * the thread is alone and while another thread (which blocks SIGALRM) runs
 * without ever yielding. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/time.h>

#include "check.h"

static volatile sig_atomic_t alarms;
static atomic_int stop;

static void on_alarm(int sig) {
  (void)sig;
  alarms++;
}

/* Waits for one SIGALRM `ms` milliseconds from now, APUE style. */
static void alarm_sleep(int ms) {
  sigset_t alrm, old;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  CHECK(sigprocmask(SIG_BLOCK, &alrm, &old) == 0);
  int before = alarms;
  struct itimerval once = {{0, 0}, {0, ms * 1000}};
  CHECK(setitimer(ITIMER_REAL, &once, NULL) == 0);
  sigset_t wait_mask = old;
  sigdelset(&wait_mask, SIGALRM);
  while (alarms == before) CHECK(sigsuspend(&wait_mask) == -1);
  CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
}

/* Blocks SIGALRM, as the other threads of such a program must: a process
 * signal goes to any thread that lets it through. */
static void* spinner(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &alrm, NULL), 0);
  while (!atomic_load(&stop)) {
  }
  return NULL;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
  alarm_sleep(20); /* alone */
  pthread_t spin;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  alarm_sleep(20); /* with a thread that never yields */
  alarm_sleep(5);
  atomic_store(&stop, 1);
  CHECK_RC(pthread_join(spin, NULL), 0);
  CHECK_MSG(alarms == 3, "%d alarms handled, expected 3", (int)alarms);
  CHECK_ONE_KERNEL_THREAD();
  printf("sigsuspend_alarm: 3 alarm sleeps ok\n");
  return 0;
}
