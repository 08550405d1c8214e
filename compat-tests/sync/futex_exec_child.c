/* What ptshim turns on in the process to trap system calls made outside libc
 * must not reach a program exec'd without ptshim. The parent (under ptshim,
 * with threads, so the trap is on) execs itself without LD_PRELOAD; the child
 * then runs natively: its threads are kernel threads, a raw `syscall`
 * futex ping-pong between them works, it makes system calls from its own
 * code, and it keeps the right to gain privileges (no_new_privs is clear, so
 * a setuid program would keep its). */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"
#include "futex_raw.h"
#include "wait_status.h"

enum { kRoundTrips = 2000 };
static atomic_uint turn;

static void* pong(void* arg) {
  (void)arg;
  for (int i = 0; i < kRoundTrips; i++) {
    while (atomic_load(&turn) != 1) raw_futex((unsigned*)&turn, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
    atomic_store(&turn, 0);
    raw_futex((unsigned*)&turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
  }
  return NULL;
}

static int status_field(const char* name) {
  FILE* f = fopen("/proc/self/status", "r");
  CHECK(f != NULL);
  char line[256];
  int value = -1;
  size_t n = strlen(name);
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, name, n) == 0 && line[n] == ':') value = atoi(line + n + 1);
  }
  fclose(f);
  return value;
}

static int child(void) {
  pthread_t t;
  CHECK_RC(pthread_create(&t, NULL, pong, NULL), 0);
  for (int i = 0; i < kRoundTrips; i++) {
    atomic_store(&turn, 1);
    raw_futex((unsigned*)&turn, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
    while (atomic_load(&turn) != 0) raw_futex((unsigned*)&turn, FUTEX_WAIT_PRIVATE, 1, 0, 0, 0);
    /* pong now waits for the next round: a kernel thread of its own if native */
    if (i == 0) CHECK_MSG(status_field("Threads") == 2, "the child is not native");
  }
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK(status_field("NoNewPrivs") == 0);
  CHECK(status_field("Seccomp") == 0);
  printf("futex_exec_child: the exec'd child ran natively\n");
  return 0;
}

static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;

static void* holder(void* arg) {
  pthread_mutex_lock(&hold); /* until the child is done */
  pthread_mutex_unlock(&hold);
  return arg;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) return child();
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t t;
  pthread_mutex_lock(&hold);
  CHECK_RC(pthread_create(&t, NULL, holder, NULL), 0); /* now multi-threaded */
  fflush(stdout);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    unsetenv("LD_PRELOAD");
    execl("/proc/self/exe", argv[0], "child", (char*)NULL);
    _exit(127);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  char how[64];
  describe_wait_status(status, how, sizeof how);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the exec'd child %s", how);
  CHECK_ONE_KERNEL_THREAD();
  pthread_mutex_unlock(&hold);
  CHECK_RC(pthread_join(t, NULL), 0);
  return 0;
}
