/* pthread_atfork from a forking thread while others run: prepare handlers in
 * reverse registration order, parent and child handlers in registration
 * order; the usual pattern (prepare locks a mutex, parent and child unlock
 * it) works, and the child can use pthreads again. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "check.h"

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static char order[32];
static int order_len;
static atomic_int stop;

static void add(char c) { order[order_len++] = c; }
static void prepare1(void) { add('a'); }
static void prepare2(void) { add('b'); }
static void prepare3(void) {
  add('c');
  CHECK_RC(pthread_mutex_lock(&state_lock), 0);
}
static void parent1(void) { add('1'); }
static void parent2(void) { add('2'); }
static void parent3(void) {
  add('3');
  CHECK_RC(pthread_mutex_unlock(&state_lock), 0);
}
static void child1(void) { add('x'); }
static void child2(void) { add('y'); }
static void child3(void) {
  add('z');
  CHECK_RC(pthread_mutex_unlock(&state_lock), 0);
}

static void* busy(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load(&stop)) usleep(500);
  return NULL;
}

static void* trivial(void* arg) { return arg; }

static void* forker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    /* prepare: c b a; child: x y z */
    int ok = strcmp(order, "cbaxyz") == 0 && pthread_mutex_trylock(&state_lock) == 0;
    pthread_t t;
    void* r = NULL;
    ok = ok && pthread_create(&t, NULL, trivial, (void*)7) == 0 && pthread_join(t, &r) == 0 &&
         r == (void*)7;
    _exit(ok ? 0 : 1);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child saw order or pthreads wrong");
  CHECK_MSG(strcmp(order, "cba123") == 0, "parent order %s, want cba123", order);
  CHECK_RC(pthread_mutex_trylock(&state_lock), 0);
  CHECK_RC(pthread_mutex_unlock(&state_lock), 0);
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_atfork(prepare1, parent1, child1), 0);
  CHECK_RC(pthread_atfork(prepare2, parent2, child2), 0);
  CHECK_RC(pthread_atfork(prepare3, parent3, child3), 0);
  pthread_t b, f;
  CHECK_RC(pthread_create(&b, NULL, busy, NULL), 0);
  CHECK_RC(pthread_create(&f, NULL, forker, NULL), 0);
  CHECK_RC(pthread_join(f, NULL), 0);
  atomic_store(&stop, 1);
  CHECK_RC(pthread_join(b, NULL), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf("atfork: handlers ran in POSIX order in parent and child; the child used pthreads\n");
  return 0;
}
