/* Attribute calls round-trip: robust and priority-protocol mutex
 * attributes, the old stackaddr interface, affinity
 * in a thread attribute. Each must round-trip, reject invalid values with
 * EINVAL, and never crash. */
#include <pthread.h>
#include <sched.h>

#include "check.h"

static void* on_old_stack(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  char local;
  char* top = arg;
  CHECK_MSG(&local<top&& & local> top - 256 * 1024, "not running on the given stack");
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_mutexattr_t ma;
  CHECK_RC(pthread_mutexattr_init(&ma), 0);
  int v;
  CHECK_RC(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST), 0);
  CHECK_RC(pthread_mutexattr_getrobust(&ma, &v), 0);
  CHECK(v == PTHREAD_MUTEX_ROBUST);
  CHECK_RC(pthread_mutexattr_setrobust(&ma, 99), EINVAL);
  CHECK_RC(pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT), 0);
  CHECK_RC(pthread_mutexattr_getprotocol(&ma, &v), 0);
  CHECK(v == PTHREAD_PRIO_INHERIT);
  CHECK_RC(pthread_mutexattr_setprotocol(&ma, 99), EINVAL);
  CHECK_RC(pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE), 0);
  CHECK_RC(pthread_mutexattr_gettype(&ma, &v), 0);
  CHECK(v == PTHREAD_MUTEX_RECURSIVE);
  CHECK_RC(pthread_mutexattr_getrobust(&ma, &v), 0);
  CHECK_MSG(v == PTHREAD_MUTEX_ROBUST, "settype lost the robust flag");

  pthread_mutex_t m;
  CHECK_RC(pthread_mutex_init(&m, &ma), 0);
  CHECK_RC(pthread_mutex_lock(&m), 0);
  CHECK_RC(pthread_mutex_lock(&m), 0); /* still recursive */
  CHECK_RC(pthread_mutex_unlock(&m), 0);
  CHECK_RC(pthread_mutex_unlock(&m), 0);
  CHECK_RC(pthread_mutex_consistent(&m), EINVAL); /* not inconsistent */
  CHECK_RC(pthread_mutex_destroy(&m), 0);

  pthread_attr_t ta;
  CHECK_RC(pthread_attr_init(&ta), 0);
  static char stack[256 * 1024] __attribute__((aligned(64)));
  CHECK_RC(pthread_attr_setstacksize(&ta, sizeof stack), 0);
  /* Deprecated, but old programs call them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  CHECK_RC(pthread_attr_setstackaddr(&ta, stack + sizeof stack), 0);
  void* top;
  CHECK_RC(pthread_attr_getstackaddr(&ta, &top), 0);
#pragma GCC diagnostic pop
  CHECK(top == stack + sizeof stack);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(0, &cpus);
  CHECK_RC(pthread_attr_setaffinity_np(&ta, sizeof cpus, &cpus), 0);
  pthread_t t;
  CHECK_RC(pthread_create(&t, &ta, on_old_stack, stack + sizeof stack), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf("attrs_more: robust/protocol attributes recorded, stackaddr and attr affinity work\n");
  return 0;
}
