/* The classic signal-thread pattern: main blocks every signal (SIGALRM too)
 * before making threads, so they all inherit the full mask, and one thread
 * takes the signals with sigwait. Checks: the threads report the inherited
 * mask; a thread that never calls the library is still preempted (the
 * other threads make progress meanwhile); an interval-timer SIGALRM and a
 * process SIGUSR1 reach the sigwait thread; a handler installed for SIGUSR2
 * runs only in the thread that unblocks it. A bad `how` is EINVAL. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "spinner.h"

static atomic_int progress;
static pthread_t usr2_thread;
static atomic_int usr2_in_right_thread, usr2_in_wrong_thread;

/* Runs only if the spinner is preempted. */
static void* stepper(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < 20; i++) {
    atomic_fetch_add(&progress, 1);
    usleep(1000);
  }
  return NULL;
}

static void* signal_taker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sigset_t now;
  CHECK_RC(pthread_sigmask(SIG_BLOCK, NULL, &now), 0);
  CHECK_MSG(sigismember(&now, SIGALRM) == 1 && sigismember(&now, SIGUSR1) == 1,
            "the mask was not inherited");
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGALRM);
  sigaddset(&wanted, SIGUSR1);
  struct itimerval once = {{0, 0}, {0, 30 * 1000}};
  CHECK(setitimer(ITIMER_REAL, &once, NULL) == 0);
  int sig = 0;
  CHECK_RC(sigwait(&wanted, &sig), 0);
  CHECK_MSG(sig == SIGALRM, "sigwait took %d, expected SIGALRM", sig);
  CHECK(kill(getpid(), SIGUSR1) == 0);
  CHECK_RC(sigwait(&wanted, &sig), 0);
  CHECK_MSG(sig == SIGUSR1, "sigwait took %d, expected SIGUSR1", sig);
  return NULL;
}

static void on_usr2(int sig) {
  (void)sig;
  if (pthread_equal(pthread_self(), usr2_thread)) {
    atomic_fetch_add(&usr2_in_right_thread, 1);
  } else {
    atomic_fetch_add(&usr2_in_wrong_thread, 1);
  }
}

static void* usr2_taker(void* arg) {
  (void)arg;
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  CHECK_RC(pthread_sigmask(SIG_UNBLOCK, &usr2, NULL), 0);
  while (atomic_load(&usr2_in_right_thread) == 0) usleep(1000);
  return NULL;
}

int main(void) {
  sigset_t all;
  sigfillset(&all);
  CHECK_RC(pthread_sigmask(12345, &all, NULL), EINVAL); /* a bad `how` */
  errno = 0;
  CHECK(sigprocmask(12345, &all, NULL) == -1 && errno == EINVAL);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &all, NULL), 0);
  struct sigaction sa = {0};
  sa.sa_handler = on_usr2;
  CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);

  pthread_t spin, step, taker, usr2;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&step, NULL, stepper, NULL), 0);
  CHECK_RC(pthread_create(&taker, NULL, signal_taker, NULL), 0);
  CHECK_RC(pthread_create(&usr2, NULL, usr2_taker, NULL), 0);
  usr2_thread = usr2;
  CHECK_RC(pthread_join(step, NULL), 0);
  CHECK_RC(pthread_join(taker, NULL), 0);
  CHECK(kill(getpid(), SIGUSR2) == 0);
  CHECK_RC(pthread_join(usr2, NULL), 0);
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(spin, NULL), 0);

  CHECK_MSG(atomic_load(&progress) == 20, "stepper made %d of 20 steps", atomic_load(&progress));
  CHECK_MSG(atomic_load(&spins) > 0, "the spinner never ran");
  CHECK_MSG(atomic_load(&usr2_in_wrong_thread) == 0, "SIGUSR2 ran in a thread that blocks it");
  CHECK_ONE_KERNEL_THREAD();
  printf("sigmask_all_blocked: inherited masks, preemption, sigwait and handler placement ok\n");
  return 0;
}
