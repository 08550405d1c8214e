/* fork() from a thread while another thread runs, each adding to its own
 * counter with a library call in the loop; the child then runs two threads
 * of its own. Both processes print their counts, the child first (the
 * parent waits for it). Under a seeded schedule the shim may be counting
 * the forking thread's instructions: the child must start with nothing of
 * that (a breakpoint, the trap flag) and get slices of its own. */
#include <pthread.h>
#include <sys/wait.h>

#include "check.h"

enum { ROUNDS = 100 };

static volatile long counts[2];
static volatile long sink;
static pid_t child;

static void* adder(void* arg) {
  long id = (long)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < ROUNDS; i++) {
    counts[id] = counts[id] + 1;
    sink += getppid();
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void run_pair(void) {
  pthread_t a, b;
  CHECK_RC(pthread_create(&a, NULL, adder, (void*)0), 0);
  CHECK_RC(pthread_create(&b, NULL, adder, (void*)1), 0);
  CHECK_RC(pthread_join(a, NULL), 0);
  CHECK_RC(pthread_join(b, NULL), 0);
}

static void* forker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 0; i < ROUNDS; i++) counts[0] = counts[0] + 1;
  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    counts[0] = counts[1] = 0;
    run_pair();
    CHECK_ONE_KERNEL_THREAD();
    printf("seeded_fork: child %ld %ld\n", counts[0], counts[1]);
    fflush(stdout);
    _exit(0);
  }
  for (int i = 0; i < ROUNDS; i++) counts[0] = counts[0] + 1;
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t f, a;
  CHECK_RC(pthread_create(&f, NULL, forker, NULL), 0);
  CHECK_RC(pthread_create(&a, NULL, adder, (void*)1), 0);
  CHECK_RC(pthread_join(f, NULL), 0);
  CHECK_RC(pthread_join(a, NULL), 0);
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
  CHECK_ONE_KERNEL_THREAD();
  printf("seeded_fork: parent %ld %ld\n", counts[0], counts[1]);
  return 0;
}
