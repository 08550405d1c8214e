/* Waiting for a child sleeps until the child changes state, as the kernel's
 * wait4 does: no looking again and again meanwhile. With a second thread
 * asleep in a condvar wait (so the waiter is not alone), the main thread
 * waits in waitpid for a child that sleeps 300 ms: the process makes only a
 * few voluntary context switches during the wait (one wake-up per look
 * would be hundreds). Then, each as Linux does it:
 * - waitid(P_PID, WEXITED) fills in the child's siginfo; waitid with a null
 *   siginfo works too;
 * - WUNTRACED sees a child stop itself, waitid(WCONTINUED) its SIGCONT;
 * - SIGCHLD stays at SIG_DFL for the program (sigaction reports it);
 * - a program SIGCHLD handler runs (in the main thread, which accepts it)
 *   and waitpid still returns the child;
 * - with SIGCHLD ignored the kernel reaps the child: waitpid waits for it,
 *   then fails with ECHILD;
 * - a handler without SA_RESTART that runs on the waiting thread (another
 *   thread's pthread_kill) ends waitpid with EINTR; with SA_RESTART the
 *   wait goes on and returns the child. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"
#include "wait_status.h"

static pid_t spawn(int sleep_ms, int code) {
  fflush(NULL);
  pid_t pid = fork();
  CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    if (sleep_ms > 0) usleep((useconds_t)sleep_ms * 1000);
    if (code == -SIGSTOP) {
      raise(SIGSTOP);
      usleep(100 * 1000);
      _exit(3);
    }
    _exit(code);
  }
  return pid;
}

static long voluntary_switches(void) {
  struct rusage ru;
  CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
  return ru.ru_nvcsw;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done;

static void* sleeper(void* arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  while (!done) pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
  return NULL;
}

static atomic_int chld_handled, usr1_handled;
static pthread_t main_thread;
static atomic_int chld_on_main = 1;
static void on_chld(int sig) {
  (void)sig;
  if (!pthread_equal(pthread_self(), main_thread)) chld_on_main = 0;
  chld_handled++;
}
static void on_usr1(int sig) {
  (void)sig;
  usr1_handled++;
}

static void expect_exit(pid_t got, pid_t want, int status, int code) {
  char how[96];
  describe_wait_status(status, how, sizeof how);
  CHECK_MSG(got == want, "waited for %d, got %d (%s)", (int)want, (int)got, strerror(errno));
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == code, "child %s, wanted exit %d", how,
            code);
}

static void* interrupter(void* arg) {
  pthread_t target = *(pthread_t*)arg;
  usleep(100 * 1000); /* the main thread is in waitpid by now */
  CHECK(pthread_kill(target, SIGUSR1) == 0);
  return NULL;
}

static void install(int sig, void (*handler)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(sig, &sa, NULL) == 0);
}

int main(void) {
  main_thread = pthread_self();
  pthread_t other;
  CHECK(pthread_create(&other, NULL, sleeper, NULL) == 0);
  int status = -1;

  /* a wait without looking again and again */
  pid_t child = spawn(300, 7);
  long before = voluntary_switches();
  pid_t got = waitpid(child, &status, 0);
  long switches = voluntary_switches() - before;
  expect_exit(got, child, status, 7);
  CHECK_MSG(switches < 60, "%ld voluntary context switches during a 300 ms waitpid", switches);

  /* waitid */
  child = spawn(50, 4);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  CHECK_MSG(waitid(P_PID, (id_t)child, &info, WEXITED) == 0, "waitid: %s", strerror(errno));
  CHECK_MSG(info.si_pid == child && info.si_code == CLD_EXITED && info.si_status == 4,
            "waitid: pid %d code %d status %d", (int)info.si_pid, info.si_code, info.si_status);
  child = spawn(50, 2);
  CHECK_MSG(waitid(P_ALL, 0, NULL, WEXITED) == 0, "waitid(NULL): %s", strerror(errno));
  CHECK_MSG(waitpid(child, &status, WNOHANG) == -1 && errno == ECHILD, "child not reaped");

  /* stopped and continued */
  child = spawn(50, -SIGSTOP);
  got = waitpid(child, &status, WUNTRACED);
  CHECK_MSG(got == child && WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP,
            "WUNTRACED: got %d status %#x", (int)got, status);
  CHECK(kill(child, SIGCONT) == 0);
  memset(&info, 0, sizeof info);
  CHECK(waitid(P_PID, (id_t)child, &info, WCONTINUED) == 0);
  CHECK_MSG(info.si_pid == child && info.si_code == CLD_CONTINUED, "WCONTINUED: code %d",
            info.si_code);
  got = waitpid(child, &status, 0);
  expect_exit(got, child, status, 3);

  /* the program's SIGCHLD action is still its own */
  struct sigaction old;
  CHECK(sigaction(SIGCHLD, NULL, &old) == 0);
  CHECK_MSG(old.sa_handler == SIG_DFL && (old.sa_flags & SA_SIGINFO) == 0,
            "SIGCHLD reported as %p flags %#x", (void*)old.sa_handler, old.sa_flags);

  /* a handler of the program's */
  install(SIGCHLD, on_chld, SA_RESTART);
  child = spawn(50, 6);
  got = waitpid(child, &status, 0);
  expect_exit(got, child, status, 6);
  for (int i = 0; i < 100 && chld_handled == 0; i++) usleep(10 * 1000);
  CHECK_MSG(chld_handled >= 1 && chld_on_main, "SIGCHLD handler ran %d times (on main: %d)",
            (int)chld_handled, (int)chld_on_main);

  /* SIGCHLD ignored: the kernel reaps, waitpid waits for it and fails */
  install(SIGCHLD, SIG_IGN, 0);
  child = spawn(100, 1);
  int64_t t0 = now_ns();
  got = waitpid(child, &status, 0);
  CHECK_MSG(got == -1 && errno == ECHILD, "ignored SIGCHLD: waitpid gave %d (%s)", (int)got,
            strerror(errno));
  CHECK_MSG(now_ns() - t0 >= 50 * NS_PER_MS, "waitpid did not wait for the child");
  install(SIGCHLD, SIG_DFL, 0);

  /* a handler interrupts the wait: EINTR without SA_RESTART */
  install(SIGUSR1, on_usr1, 0);
  child = spawn(400, 8);
  pthread_t intr;
  CHECK(pthread_create(&intr, NULL, interrupter, &main_thread) == 0);
  got = waitpid(child, &status, 0);
  CHECK_MSG(got == -1 && errno == EINTR && usr1_handled == 1, "waitpid gave %d (%s), handler %d",
            (int)got, strerror(errno), (int)usr1_handled);
  CHECK(pthread_join(intr, NULL) == 0);
  got = waitpid(child, &status, 0);
  expect_exit(got, child, status, 8);
  /* ... and goes on with it */
  install(SIGUSR1, on_usr1, SA_RESTART);
  child = spawn(300, 9);
  CHECK(pthread_create(&intr, NULL, interrupter, &main_thread) == 0);
  got = waitpid(child, &status, 0);
  expect_exit(got, child, status, 9);
  CHECK(usr1_handled == 2);
  CHECK(pthread_join(intr, NULL) == 0);

  CHECK_ONE_KERNEL_THREAD();
  pthread_mutex_lock(&lock);
  done = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
  CHECK(pthread_join(other, NULL) == 0);
  printf("child waits ok (%ld voluntary switches in a 300 ms waitpid)\n", switches);
  return 0;
}
