/* A deadlock while the rest of the program works: two threads take two
 * locks in opposite order (or one holds a mutex and joins the other, which
 * wants it) while a worker prints 100 items, one every 2 ms, and main joins
 * the worker. The two start once the worker printed its third item, so the
 * worker's progress shows before the report. Natively the two hang forever
 * and main returns when the worker is done.
 * usage: partial_deadlock mutex|rwlock|join
 * The locks are exported globals (the program is linked -rdynamic), so the
 * dynamic symbol table names them. */
#include <pthread.h>

#include "check.h"

pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
pthread_rwlock_t rw_a = PTHREAD_RWLOCK_INITIALIZER;
pthread_rwlock_t rw_b = PTHREAD_RWLOCK_INITIALIZER;

static const char* mode;
static volatile int items_done, have_a, have_b;
static pthread_t t_ab, t_ba;

static void* worker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  for (int i = 1; i <= 100; i++) {
    fprintf(stderr, "worker: item %d\n", i);
    items_done = i;
    usleep(2000);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

static void wait_until(volatile int* flag, int value) {
  while (*flag < value) usleep(500);
}

static void take(int which) {
  if (strcmp(mode, "rwlock") == 0) {
    CHECK_RC(pthread_rwlock_wrlock(which == 0 ? &rw_a : &rw_b), 0);
  } else {
    CHECK_RC(pthread_mutex_lock(which == 0 ? &lock_a : &lock_b), 0);
  }
}

static void* locker_ab(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  wait_until(&items_done, 3);
  take(0);
  have_a = 1;
  if (strcmp(mode, "join") == 0) {
    CHECK_RC(pthread_join(t_ba, NULL), 0);
  } else {
    wait_until(&have_b, 1);
    take(1);
  }
  CHECK_MSG(0, "locker_ab got both: no deadlock");
  return NULL;
}

static void* locker_ba(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  wait_until(&items_done, 3);
  if (strcmp(mode, "join") == 0) {
    wait_until(&have_a, 1);
    usleep(2000); /* locker_ab is in its join by now */
    take(0);
  } else {
    take(1);
    have_b = 1;
    wait_until(&have_a, 1);
    take(0);
  }
  CHECK_MSG(0, "locker_ba got both: no deadlock");
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_MSG(argc == 2, "usage: partial_deadlock mutex|rwlock|join");
  mode = argv[1];
  pthread_t w;
  CHECK_RC(pthread_create(&w, NULL, worker, NULL), 0);
  CHECK_RC(pthread_create(&t_ab, NULL, locker_ab, NULL), 0);
  CHECK_RC(pthread_create(&t_ba, NULL, locker_ba, NULL), 0);
  CHECK_RC(pthread_join(w, NULL), 0);
  printf("main: the worker finished its 100 items\n");
  CHECK_ON_MAIN_KERNEL_THREAD();
  return 0;
}
