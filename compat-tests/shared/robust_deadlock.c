/* A lock-order deadlock on two process-private robust mutexes: their words
 * are this process's alone, so with every thread blocked on them nothing can
 * ever end the waits, and the shim reports the deadlock and aborts instead of
 * hanging, as it does for plain mutexes. (Process-shared ones could be
 * released by another process: no report for those.) */
#include <pthread.h>

#include "check.h"

static pthread_mutex_t first, second;

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

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), 0);
  CHECK_RC(pthread_mutex_init(&first, &a), 0);
  CHECK_RC(pthread_mutex_init(&second, &a), 0);
  static struct order forward = {&first, &second}, backward = {&second, &first};
  pthread_t t1, t2;
  CHECK_RC(pthread_create(&t1, NULL, take_both, &forward), 0);
  CHECK_RC(pthread_create(&t2, NULL, take_both, &backward), 0);
  fprintf(stderr, "robust_deadlock: two threads now lock two robust mutexes in opposite order\n");
  CHECK_RC(pthread_join(t1, NULL), 0);
  CHECK_MSG(0, "join returned from a deadlocked thread");
}
