/* A program that hangs — one thread reads a pipe nobody writes, another
 * waits on a condition variable nobody signals, main joins the reader — is
 * sent SIGQUIT from outside (a child process, as a person at a terminal
 * would) and then SIGTERM. Under ptshim the thread dump must appear although
 * no thread ever runs again: every thread is blocked when the signal comes. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"

static int pipe_fds[2];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void* hung_reader(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  char c;
  ssize_t n = read(pipe_fds[0], &c, 1); /* nobody writes */
  CHECK_MSG(0, "read returned %zd", n);
  return NULL;
}

static void* hung_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  for (;;) CHECK_RC(pthread_cond_wait(&never, &lock), 0);
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK(pipe(pipe_fds) == 0);
  pid_t parent = getpid();
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    struct timespec quit = {0, 300 * NS_PER_MS}, term = {1, 0};
    nanosleep(&quit, NULL);
    kill(parent, SIGQUIT);
    nanosleep(&term, NULL);
    kill(parent, SIGTERM);
    _exit(0);
  }
  pthread_t reader, waiter;
  CHECK_RC(pthread_create(&reader, NULL, hung_reader, NULL), 0);
  CHECK_RC(pthread_create(&waiter, NULL, hung_waiter, NULL), 0);
  printf("hung_dump: every thread now waits forever\n");
  fflush(stdout);
  CHECK_RC(pthread_join(reader, NULL), 0);
  CHECK_MSG(0, "the reader was joined");
  return 0;
}
