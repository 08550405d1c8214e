/* SIGABRT and SIGQUIT with the program's handlers, and raise() of a blocked
 * signal, behave as any signal does on Linux:
 * - kill(getpid(), SIGABRT) from a second thread while the main thread
 *   sleeps in nanosleep: the main thread (which accepts it) runs the handler
 *   and its nanosleep fails with EINTR;
 * - SIGQUIT from a child process while the main thread waits in
 *   sem_timedwait: the handler runs on it and sem_timedwait fails with EINTR
 *   long before its timeout;
 * - raise(SIGABRT) while the caller blocks it: pending (sigpending), the
 *   handler runs only when the caller unblocks it, and on the caller;
 * - raise(SIGUSR1) while every thread blocks it: pending for the caller
 *   alone, so a new thread does not see it pending and another thread that
 *   unblocks SIGUSR1 does not take it;
 * - abort() still calls the SIGABRT handler at once, which siglongjmps out. */
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"

static pthread_t main_thread;
static atomic_int abrt_on_main, abrt_elsewhere, quit_on_main, usr1_on_main, usr1_elsewhere;
static sigjmp_buf abort_escape;
static atomic_int escaping;

static void on_abrt(int sig) {
  (void)sig;
  if (escaping) siglongjmp(abort_escape, 1);
  if (pthread_equal(pthread_self(), main_thread))
    abrt_on_main++;
  else
    abrt_elsewhere++;
}
static void on_quit(int sig) {
  (void)sig;
  if (pthread_equal(pthread_self(), main_thread)) quit_on_main++;
}
static void on_usr1(int sig) {
  (void)sig;
  if (pthread_equal(pthread_self(), main_thread))
    usr1_on_main++;
  else
    usr1_elsewhere++;
}

static void install(int sig, void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void* abort_sender(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(100 * 1000); /* main is in nanosleep by now */
  CHECK(kill(getpid(), SIGABRT) == 0);
  return NULL;
}

static void* pending_looker(void* arg) {
  sigset_t* pending = arg;
  CHECK(sigpending(pending) == 0);
  return NULL;
}

static atomic_int unblocked;
static void* unblocker(void* arg) {
  (void)arg;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  CHECK(pthread_sigmask(SIG_UNBLOCK, &s, NULL) == 0);
  usleep(50 * 1000); /* a signal for this thread would have run by now */
  unblocked = 1;
  return NULL;
}

static void block(int sig, int how) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  CHECK(pthread_sigmask(how, &s, NULL) == 0);
}

static int is_pending(int sig) {
  sigset_t p;
  CHECK(sigpending(&p) == 0);
  return sigismember(&p, sig);
}

int main(void) {
  main_thread = pthread_self();
  install(SIGABRT, on_abrt);
  install(SIGQUIT, on_quit);
  install(SIGUSR1, on_usr1);

  /* kill(SIGABRT) ends the main thread's nanosleep */
  pthread_t sender;
  CHECK(pthread_create(&sender, NULL, abort_sender, NULL) == 0);
  struct timespec ten_s = {10, 0}, left = {0, 0};
  int r = nanosleep(&ten_s, &left);
  CHECK_MSG(r == -1 && errno == EINTR && left.tv_sec >= 5, "nanosleep gave %d (%s), %ld s left", r,
            strerror(errno), (long)left.tv_sec);
  CHECK(pthread_join(sender, NULL) == 0);
  CHECK_MSG(abrt_on_main == 1 && abrt_elsewhere == 0, "SIGABRT handler: %d on main, %d elsewhere",
            (int)abrt_on_main, (int)abrt_elsewhere);

  /* SIGQUIT from another process ends sem_timedwait */
  sem_t sem;
  CHECK(sem_init(&sem, 0, 0) == 0);
  pthread_t idle;
  CHECK(pthread_create(&idle, NULL, abort_sender, NULL) == 0); /* a second thread: not alone */
  CHECK(pthread_join(idle, NULL) == 0);                        /* (its SIGABRT: main again) */
  CHECK(abrt_on_main == 2);
  fflush(NULL);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    usleep(200 * 1000);
    kill(getppid(), SIGQUIT);
    _exit(0);
  }
  pthread_t helper;
  CHECK(pthread_create(&helper, NULL, unblocker, NULL) == 0); /* keeps a thread alive */
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  int64_t t0 = now_ns();
  r = sem_timedwait(&sem, &deadline);
  CHECK_MSG(r == -1 && errno == EINTR && quit_on_main == 1,
            "sem_timedwait gave %d (%s), handler %d", r, strerror(errno), (int)quit_on_main);
  CHECK_MSG(now_ns() - t0 < 8 * NS_PER_S, "sem_timedwait ran to its timeout");
  CHECK(pthread_join(helper, NULL) == 0);
  int status;
  CHECK(waitpid(child, &status, 0) == child);

  /* raise() of a blocked SIGABRT stays pending for the caller */
  block(SIGABRT, SIG_BLOCK);
  CHECK(raise(SIGABRT) == 0);
  CHECK_MSG(abrt_on_main == 2 && is_pending(SIGABRT), "raised SIGABRT: handler %d, pending %d",
            (int)abrt_on_main, is_pending(SIGABRT));
  block(SIGABRT, SIG_UNBLOCK);
  CHECK_MSG(abrt_on_main == 3 && !is_pending(SIGABRT), "after unblocking: handler %d",
            (int)abrt_on_main);

  /* raise() of a SIGUSR1 every thread blocks: the caller's alone */
  block(SIGUSR1, SIG_BLOCK);
  CHECK(raise(SIGUSR1) == 0);
  CHECK(is_pending(SIGUSR1));
  sigset_t seen;
  pthread_t looker;
  CHECK(pthread_create(&looker, NULL, pending_looker, &seen) == 0);
  CHECK(pthread_join(looker, NULL) == 0);
  CHECK_MSG(!sigismember(&seen, SIGUSR1), "a new thread sees the raised SIGUSR1 pending");
  unblocked = 0;
  CHECK(pthread_create(&helper, NULL, unblocker, NULL) == 0);
  while (!unblocked) usleep(1000);
  CHECK_MSG(usr1_elsewhere == 0 && usr1_on_main == 0, "SIGUSR1 taken by the other thread");
  CHECK_ONE_KERNEL_THREAD();
  CHECK(pthread_join(helper, NULL) == 0);
  block(SIGUSR1, SIG_UNBLOCK);
  CHECK_MSG(usr1_on_main == 1, "SIGUSR1 handler ran %d times on main", (int)usr1_on_main);

  /* abort() calls the handler at once */
  escaping = 1;
  if (sigsetjmp(abort_escape, 1) == 0) {
    abort();
    CHECK_MSG(0, "abort returned");
  }
  printf("handled_abort_quit ok\n");
  return 0;
}
