/* fork() from a created thread while a spinner and a sleeper keep running.
 * In the child only the forking thread exists (still one kernel thread); it
 * can create and join a thread, and exec. A second child sleeps 100 ms and
 * _exit(7)s: no stray timer signal may kill it. The parent waits for both
 * and its other threads carry on and finish. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"
#include "napper.h"
#include "spinner.h"
#include "wait_status.h"

static void* child_helper(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  return (void*)((long)arg + 1);
}

/* Waits for `pid` and returns its wait status. The program installs no
 * signal handler, so EINTR would be the library's doing: not retried. */
static int wait_for(pid_t pid) {
  int status;
  pid_t got = waitpid(pid, &status, 0);
  CHECK_MSG(got == pid, "waitpid returned %d: %s", (int)got, strerror(errno));
  return status;
}

/* Child 1: alone, can run a thread, then execs /bin/true. */
static void child_exec(void) {
  CHECK_ONE_KERNEL_THREAD();
  long spins0 = atomic_load(&spins), naps0 = atomic_load(&naps);
  usleep(30 * 1000); /* the parent's other threads would run now if they existed here */
  CHECK_MSG(atomic_load(&spins) == spins0 && atomic_load(&naps) == naps0,
            "threads other than the forking one still run in the child");
  pthread_t t;
  void* ret;
  CHECK_RC(pthread_create(&t, NULL, child_helper, (void*)41), 0);
  CHECK_RC(pthread_join(t, &ret), 0);
  CHECK(ret == (void*)42);
  CHECK_ONE_KERNEL_THREAD();
  execl("/bin/true", "true", (char*)NULL);
  fprintf(stderr, "fork_thread child: execl /bin/true: %s\n", strerror(errno));
  _exit(98);
}

/* Child 2: sleeps through many timeslices, then leaves with status 7. */
static void child_sleep_exit(void) {
  CHECK_ONE_KERNEL_THREAD();
  usleep(100 * 1000);
  CHECK_ONE_KERNEL_THREAD();
  _exit(7);
}

static void* forker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(20 * 1000); /* the spinner and the napper are going */
  char how[96];

  fflush(NULL); /* the children must not write out our buffered output */
  pid_t pid = fork();
  CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) child_exec();
  int status = wait_for(pid);
  describe_wait_status(status, how, sizeof how);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exec child %s, want exit 0", how);

  pid = fork();
  CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) child_sleep_exit();
  status = wait_for(pid);
  describe_wait_status(status, how, sizeof how);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 7, "sleeping child %s, want exit 7", how);

  /* The parent's threads are still alive and scheduled. */
  long spins0 = atomic_load(&spins), naps0 = atomic_load(&naps);
  usleep(30 * 1000);
  CHECK_MSG(atomic_load(&spins) > spins0, "the spinner stopped running in the parent");
  CHECK_MSG(atomic_load(&naps) > naps0, "the sleeper stopped running in the parent");
  atomic_store(&stop_spinning, 1);
  atomic_store(&stop_napping, 1);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t spin, nap, fork_t;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&nap, NULL, napper, NULL), 0);
  CHECK_RC(pthread_create(&fork_t, NULL, forker, NULL), 0);
  CHECK_RC(pthread_join(fork_t, NULL), 0);
  CHECK_RC(pthread_join(spin, NULL), 0);
  CHECK_RC(pthread_join(nap, NULL), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "fork_thread: fork from a thread while others ran: child was alone on one kernel "
      "thread, ran a thread, exec'd /bin/true (exit 0); a sleeping child _exit(7) seen as "
      "7; parent threads kept going (%ld spins, %ld naps) and finished\n",
      atomic_load(&spins), atomic_load(&naps));
  return 0;
}
