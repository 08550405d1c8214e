/* Waiting for child processes while other user threads run. A thread forks a
 * child that sleeps 100 ms and _exit(5)s, and waits for it in waitpid()
 * while a spinner (no library calls) runs: waitpid returns that child with
 * status 5, not early, and the spinner advanced meanwhile. Then wait() for a
 * second child (_exit(9) after 50 ms); WNOHANG on a running child returns 0
 * at once; a child killed by another thread's kill(SIGKILL) while waitpid
 * waits is reported as killed; wait4 fills in the child's rusage; and with no
 * child left waitpid fails with ECHILD at once. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"
#include "spinner.h"
#include "wait_status.h"

/* fork()s a child that sleeps `sleep_ms` then _exit(code)s (code < 0: it
 * waits for a signal instead). */
static pid_t spawn(int sleep_ms, int code) {
  fflush(NULL);
  pid_t pid = fork();
  CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    if (code < 0) {
      for (;;) pause();
    }
    if (sleep_ms > 0) usleep((useconds_t)sleep_ms * 1000);
    _exit(code);
  }
  return pid;
}

/* Burns about `ms` of CPU time, then _exit(0)s. */
static pid_t spawn_burner(int ms) {
  fflush(NULL);
  pid_t pid = fork();
  CHECK_MSG(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    int64_t until = cpu_ns() + ms * NS_PER_MS;
    volatile unsigned long x = 0;
    while (cpu_ns() < until)
      for (int i = 0; i < 10000; i++) x = x + 1;
    _exit(0);
  }
  return pid;
}

struct stats {
  long spins_waitpid, spins_wait, spins_killed;
  double waitpid_ms, wait_ms;
};

static atomic_int victim_pid;

static void* killer(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (atomic_load(&victim_pid) == 0) usleep(1000);
  usleep(50 * 1000); /* the waiter is in waitpid by now */
  CHECK_MSG(kill(atomic_load(&victim_pid), SIGKILL) == 0, "kill: %s", strerror(errno));
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void* waiter(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct stats* st = arg;
  char how[96];
  int status = -1;

  /* waitpid for a specific child */
  pid_t child = spawn(100, 5);
  long spins0 = atomic_load(&spins);
  int64_t t0 = now_ns();
  pid_t got = waitpid(child, &status, 0);
  int64_t took = now_ns() - t0;
  st->spins_waitpid = atomic_load(&spins) - spins0;
  st->waitpid_ms = (double)took / NS_PER_MS;
  CHECK_MSG(got == child, "waitpid returned %d (%s), want %d", (int)got, strerror(errno),
            (int)child);
  describe_wait_status(status, how, sizeof how);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 5, "child %s, want exit 5", how);
  CHECK_MSG(took >= 50 * NS_PER_MS, "waitpid returned after %.1f ms; the child sleeps 100 ms",
            (double)took / NS_PER_MS);
  CHECK_MSG(st->spins_waitpid > 0, "the spinner did not run while waitpid waited");

  /* wait() for any child */
  child = spawn(50, 9);
  spins0 = atomic_load(&spins);
  t0 = now_ns();
  status = -1;
  got = wait(&status);
  took = now_ns() - t0;
  st->spins_wait = atomic_load(&spins) - spins0;
  st->wait_ms = (double)took / NS_PER_MS;
  CHECK_MSG(got == child, "wait returned %d (%s), want %d", (int)got, strerror(errno), (int)child);
  describe_wait_status(status, how, sizeof how);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 9, "child %s, want exit 9", how);
  CHECK_MSG(st->spins_wait > 0, "the spinner did not run while wait waited");

  /* WNOHANG on a child that is still running: 0 at once */
  child = spawn(-1, -1);
  status = -1;
  got = waitpid(child, &status, WNOHANG);
  CHECK_MSG(got == 0, "waitpid(WNOHANG) on a running child returned %d (%s)", (int)got,
            strerror(errno));

  /* ...which another thread then kills while this one waits */
  pthread_t k;
  CHECK_RC(pthread_create(&k, NULL, killer, NULL), 0);
  atomic_store(&victim_pid, child);
  spins0 = atomic_load(&spins);
  got = waitpid(-1, &status, 0);
  st->spins_killed = atomic_load(&spins) - spins0;
  CHECK_MSG(got == child, "waitpid(-1) returned %d (%s), want %d", (int)got, strerror(errno),
            (int)child);
  describe_wait_status(status, how, sizeof how);
  CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child %s, want SIGKILL", how);
  CHECK_MSG(st->spins_killed > 0, "the spinner did not run while waitpid waited for the kill");
  CHECK_RC(pthread_join(k, NULL), 0);

  /* wait4 reports the child's resource usage */
  child = spawn_burner(30);
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  got = wait4(child, &status, 0, &ru);
  CHECK_MSG(got == child, "wait4 returned %d (%s)", (int)got, strerror(errno));
  describe_wait_status(status, how, sizeof how);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "burner %s, want exit 0", how);
  int64_t child_cpu = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * NS_PER_S +
                      (int64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
  CHECK_MSG(child_cpu >= 20 * NS_PER_MS, "wait4 rusage shows %.1f ms of CPU; the child burnt 30",
            (double)child_cpu / NS_PER_MS);

  /* No children left: ECHILD, without waiting. */
  t0 = now_ns();
  errno = 0;
  got = waitpid(-1, &status, 0);
  int err = errno;
  CHECK_MSG(got == -1 && err == ECHILD, "waitpid with no children: %d, errno %d (%s)", (int)got,
            err, strerror(err));
  CHECK_MSG(now_ns() - t0 < 100 * NS_PER_MS, "waitpid with no children took %.1f ms",
            (double)(now_ns() - t0) / NS_PER_MS);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int64_t start = now_ns();
  struct stats st;
  memset(&st, 0, sizeof st);
  pthread_t spin, w;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&w, NULL, waiter, &st), 0);
  CHECK_RC(pthread_join(w, NULL), 0);
  atomic_store(&stop_spinning, 1);
  CHECK_RC(pthread_join(spin, NULL), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "io_waitpid: waitpid got exit 5 after %.1f ms (%ld spins meanwhile), wait got exit 9 "
      "after %.1f ms (%ld spins), a child killed by another thread seen as SIGKILL (%ld spins), "
      "WNOHANG, wait4 rusage, ECHILD; %.0f ms in all\n",
      st.waitpid_ms, st.spins_waitpid, st.wait_ms, st.spins_wait, st.spins_killed,
      (double)(now_ns() - start) / NS_PER_MS);
  return 0;
}
