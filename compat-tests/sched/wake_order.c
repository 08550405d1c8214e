/* Waiters wake in priority order, as POSIX requires under priority
 * scheduling and Linux's futexes do: the highest priority first, the longest
 * waiter among equals. Waiters at 10, 30, 20 and 30 again block on a mutex,
 * a condition variable, a semaphore and a rwlock held for writing; each
 * release lets exactly the highest one go. */
#include "sched_common.h"

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static sem_t g_sem;
static pthread_rwlock_t g_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static int g_signalled;

struct waiter {
  char name;
  int kind;
};

static void* wait_once(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  const struct waiter* w = arg;
  switch (w->kind) {
    case 0:
      CHECK_RC(pthread_mutex_lock(&g_mutex), 0);
      mark(w->name);
      CHECK_RC(pthread_mutex_unlock(&g_mutex), 0);
      break;
    case 1:
      CHECK_RC(pthread_mutex_lock(&g_mutex), 0);
      while (g_signalled == 0) CHECK_RC(pthread_cond_wait(&g_cond, &g_mutex), 0);
      --g_signalled;
      mark(w->name);
      CHECK_RC(pthread_mutex_unlock(&g_mutex), 0);
      break;
    case 2:
      CHECK(sem_wait(&g_sem) == 0);
      mark(w->name);
      break;
    case 3:
      CHECK_RC(pthread_rwlock_wrlock(&g_rwlock), 0);
      mark(w->name);
      CHECK_RC(pthread_rwlock_unlock(&g_rwlock), 0);
      break;
  }
  return NULL;
}

static void run(int kind) {
  static const int prio[4] = {10, 30, 20, 30};
  struct waiter w[4];
  pthread_t t[4];
  for (int i = 0; i < 4; ++i) {
    w[i].name = (char)('a' + i);
    w[i].kind = kind;
    t[i] = start_thread(SCHED_FIFO, prio[i], wait_once, &w[i]);
    pause_ms(5); /* it runs and blocks: it waits longer than the next */
  }
  CHECK(g_order_len == 0);
  switch (kind) {
    case 0:
      CHECK_RC(pthread_mutex_unlock(&g_mutex), 0);
      break;
    case 1:
      for (int i = 0; i < 4; ++i) {
        CHECK_RC(pthread_mutex_lock(&g_mutex), 0);
        ++g_signalled;
        CHECK_RC(pthread_cond_signal(&g_cond), 0);
        CHECK_RC(pthread_mutex_unlock(&g_mutex), 0);
      }
      break;
    case 2:
      for (int i = 0; i < 4; ++i) CHECK(sem_post(&g_sem) == 0);
      break;
    case 3:
      CHECK_RC(pthread_rwlock_unlock(&g_rwlock), 0);
      break;
  }
  /* Main outranks them: they run once it blocks. */
  for (int i = 0; i < 4; ++i) CHECK_RC(pthread_join(t[i], NULL), 0);
  check_order("bdca");
}

int main(void) {
  pin_to_one_cpu();
  set_self(SCHED_FIFO, 50);
  CHECK(sem_init(&g_sem, 0, 0) == 0);

  CHECK_RC(pthread_mutex_lock(&g_mutex), 0);
  run(0);
  run(1);
  run(2);
  CHECK_RC(pthread_rwlock_wrlock(&g_rwlock), 0);
  run(3);

  set_self(SCHED_OTHER, 0);
  CHECK_ONE_KERNEL_THREAD();
  puts("wake_order: waiters woke by priority");
  return 0;
}
