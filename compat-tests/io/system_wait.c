/* system() from one thread while another computes: the other thread goes on
 * running while the command does (natively it runs on its own CPU), and
 * system returns the shell's status as glibc's does: the exit code, death by
 * a signal (SIGINT, which the caller ignores meanwhile), sh's own usage error
 * for a command that starts with '-', 1 for a null command; the caller's
 * SIGINT action is what it was before. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"

static atomic_long spins;
static atomic_int stop;

static void* spinner(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load(&stop)) atomic_fetch_add(&spins, 1);
  return NULL;
}

int main(void) {
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, spinner, NULL), 0);
  long before = atomic_load(&spins);
  int status = system("sleep 0.3; exit 7");
  long during = atomic_load(&spins) - before;
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 7, "system gave status %#x", status);
  CHECK_MSG(during > 0, "the other thread did not run while system waited");

  CHECK_MSG(system(NULL) == 1, "system(NULL) is not 1");
  status = system("kill -INT $$; exit 3");
  CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "shell killed by SIGINT: %#x",
            status);
  status = system("-x");
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 2, "a '-' command: status %#x", status);
  struct sigaction now;
  CHECK(sigaction(SIGINT, NULL, &now) == 0);
  CHECK_MSG(now.sa_handler == SIG_DFL, "SIGINT's action was not given back");
  CHECK_ONE_KERNEL_THREAD();
  atomic_store(&stop, 1);
  CHECK_RC(pthread_join(t, NULL), 0);
  printf("system_wait: the other thread ran %ld steps during a 300 ms system()\n", during);
  return 0;
}
