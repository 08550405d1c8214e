/* A real lock-order deadlock: two threads take two mutexes in opposite
 * order, with a sleep in between so both hold their first one. With every
 * thread blocked and nothing asleep, the process can never continue; the
 * harness expects the shim to report it ("ptshim: deadlock", each thread
 * "waiting on mutex") and abort, instead of hanging.
 * usage: deadlock [robust]: with "robust", the two mutexes are process-private
 * robust mutexes, whose waits are this process's alone too. (Process-shared
 * ones could be released by another process: no report for those.) */
#include <pthread.h>

#include "check.h"

static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;

struct order {
  pthread_mutex_t *a, *b;
};

static void* take_both(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct order* o = arg;
  CHECK_RC(pthread_mutex_lock(o->a), 0);
  usleep(20 * 1000); /* the other thread takes its first mutex meanwhile */
  CHECK_RC(pthread_mutex_lock(o->b), 0);
  CHECK_MSG(0, "got both mutexes: the deadlock did not happen");
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  if (argc > 1 && strcmp(argv[1], "robust") == 0) {
    pthread_mutexattr_t a;
    CHECK_RC(pthread_mutexattr_init(&a), 0);
    CHECK_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
    CHECK_RC(pthread_mutex_init(&first, &a), 0);
    CHECK_RC(pthread_mutex_init(&second, &a), 0);
  }
  static struct order forward = {&first, &second}, backward = {&second, &first};
  pthread_t t1, t2;
  CHECK_RC(pthread_create(&t1, NULL, take_both, &forward), 0);
  CHECK_RC(pthread_create(&t2, NULL, take_both, &backward), 0);
  fprintf(stderr, "deadlock: two threads now lock two mutexes in opposite order\n");
  CHECK_RC(pthread_join(t1, NULL), 0);
  CHECK_MSG(0, "join returned from a deadlocked thread");
}
