/* A program with a SIGCHLD handler and no children takes two thread dumps
 * (SIGQUIT): whatever the dump does, the program must see no child — no
 * SIGCHLD, and waitpid(-1) finds none.
 *   sigchld_quiet
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "check.h"

static volatile sig_atomic_t sigchld_seen;

static void on_sigchld(int sig) {
  (void)sig;
  sigchld_seen++;
}

__attribute__((noinline)) static void dump_twice(void) {
  raise(SIGQUIT); /* line 21 */
  usleep(50 * 1000);
  raise(SIGQUIT);
  usleep(50 * 1000);
}

static void* check_thread(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

int main(void) {
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, check_thread, NULL), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  CHECK_RC(sigaction(SIGCHLD, &sa, NULL), 0);
  dump_twice();
  int status;
  CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);
  CHECK_MSG(sigchld_seen == 0, "%d SIGCHLD", (int)sigchld_seen);
  printf("sigchld_quiet: no child seen\n");
  return 0;
}
