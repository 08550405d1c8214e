/* Locks taken in orders that could deadlock, though this run never does:
 * each shape's threads run one after another (each is joined before the
 * next starts), so no thread ever waits. Under PTSHIM_LOCK_ORDER=1 the
 * shim reports the real inversions and stays silent on the shapes that
 * cannot deadlock.
 * usage: lock_order MODE [REPEATS]
 *   inversion  thread "forward" takes a then b; later "backward" b then a
 *   repeated   the same REPEATS times over, with new threads each time
 *   three      a->b, b->c, c->a, one edge per thread: one cycle of 3
 *   single     one thread takes a then b, later b then a
 *   gate       both orders, each under the same outer mutex g
 *   trylock    a then b; later b, then a by pthread_mutex_trylock
 *   readers    rwlocks r1 then r2, later r2 then r1, all to read
 *   writer     the same with one of the four acquisitions to write */
#include <pthread.h>

#include "check.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t c = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t r1 = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t r2 = PTHREAD_RWLOCK_INITIALIZER;
static long work;

static void take_two(pthread_mutex_t* x, pthread_mutex_t* y) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(x), 0);
  CHECK_RC(pthread_mutex_lock(y), 0);
  ++work;
  CHECK_RC(pthread_mutex_unlock(y), 0);
  CHECK_RC(pthread_mutex_unlock(x), 0);
}

/* noinline: each is a frame of its own in the stacks the report shows. */
__attribute__((noinline)) static void* forward(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  (void)arg;
  CHECK_RC(pthread_mutex_lock(&a), 0);
  CHECK_RC(pthread_mutex_lock(&b), 0);
  ++work;
  CHECK_RC(pthread_mutex_unlock(&b), 0);
  CHECK_RC(pthread_mutex_unlock(&a), 0);
  return NULL;
}

__attribute__((noinline)) static void* backward(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  (void)arg;
  CHECK_RC(pthread_mutex_lock(&b), 0);
  CHECK_RC(pthread_mutex_lock(&a), 0);
  ++work;
  CHECK_RC(pthread_mutex_unlock(&a), 0);
  CHECK_RC(pthread_mutex_unlock(&b), 0);
  return NULL;
}

static void* edge_ab(void* arg) {
  (void)arg;
  take_two(&a, &b);
  return NULL;
}
static void* edge_bc(void* arg) {
  (void)arg;
  take_two(&b, &c);
  return NULL;
}
static void* edge_ca(void* arg) {
  (void)arg;
  take_two(&c, &a);
  return NULL;
}

static void* both_orders(void* arg) {
  (void)arg;
  take_two(&a, &b);
  take_two(&b, &a);
  return NULL;
}

static void* gated_forward(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  (void)arg;
  CHECK_RC(pthread_mutex_lock(&g), 0);
  take_two(&a, &b);
  CHECK_RC(pthread_mutex_unlock(&g), 0);
  return NULL;
}
static void* gated_backward(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  (void)arg;
  CHECK_RC(pthread_mutex_lock(&g), 0);
  take_two(&b, &a);
  CHECK_RC(pthread_mutex_unlock(&g), 0);
  return NULL;
}

/* Backs off instead of waiting for a: cannot deadlock. */
static void* try_backward(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  (void)arg;
  CHECK_RC(pthread_mutex_lock(&b), 0);
  CHECK_RC(pthread_mutex_trylock(&a), 0); /* free: the other thread is done */
  ++work;
  CHECK_RC(pthread_mutex_unlock(&a), 0);
  CHECK_RC(pthread_mutex_unlock(&b), 0);
  return NULL;
}

static int write_second; /* writer mode: the second thread takes r1 to write */

static void* read_forward(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  (void)arg;
  CHECK_RC(pthread_rwlock_rdlock(&r1), 0);
  CHECK_RC(pthread_rwlock_rdlock(&r2), 0);
  ++work;
  CHECK_RC(pthread_rwlock_unlock(&r2), 0);
  CHECK_RC(pthread_rwlock_unlock(&r1), 0);
  return NULL;
}
static void* read_backward(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  (void)arg;
  CHECK_RC(pthread_rwlock_rdlock(&r2), 0);
  if (write_second) {
    CHECK_RC(pthread_rwlock_wrlock(&r1), 0);
  } else {
    CHECK_RC(pthread_rwlock_rdlock(&r1), 0);
  }
  ++work;
  CHECK_RC(pthread_rwlock_unlock(&r1), 0);
  CHECK_RC(pthread_rwlock_unlock(&r2), 0);
  return NULL;
}

/* Runs each routine on a thread of its own, one after another. */
static void run_in_turn(void* (*const* routines)(void*), int n) {
  for (int i = 0; i < n; ++i) {
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, routines[i], NULL), 0);
    CHECK_RC(pthread_join(t, NULL), 0);
  }
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_MSG(argc >= 2, "usage: lock_order MODE [REPEATS]");
  const char* mode = argv[1];
  int repeats = argc > 2 ? atoi(argv[2]) : 100;
  static void* (*const inversion[])(void*) = {forward, backward};
  static void* (*const three[])(void*) = {edge_ab, edge_bc, edge_ca};
  static void* (*const single[])(void*) = {both_orders};
  static void* (*const gate[])(void*) = {gated_forward, gated_backward};
  static void* (*const trylock[])(void*) = {forward, try_backward};
  static void* (*const readers[])(void*) = {read_forward, read_backward};
  long want = 2;
  if (strcmp(mode, "inversion") == 0) {
    run_in_turn(inversion, 2);
  } else if (strcmp(mode, "repeated") == 0) {
    for (int i = 0; i < repeats; ++i) run_in_turn(inversion, 2);
    want = 2L * repeats;
  } else if (strcmp(mode, "three") == 0) {
    run_in_turn(three, 3);
    want = 3;
  } else if (strcmp(mode, "single") == 0) {
    run_in_turn(single, 1);
  } else if (strcmp(mode, "gate") == 0) {
    run_in_turn(gate, 2);
  } else if (strcmp(mode, "trylock") == 0) {
    run_in_turn(trylock, 2);
  } else if (strcmp(mode, "readers") == 0 || strcmp(mode, "writer") == 0) {
    write_second = strcmp(mode, "writer") == 0;
    run_in_turn(readers, 2);
  } else {
    CHECK_MSG(0, "unknown mode %s", mode);
  }
  CHECK_MSG(work == want, "%ld critical sections, want %ld", work, want);
  printf("lock_order %s: %ld critical sections, no deadlock\n", mode, work);
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
