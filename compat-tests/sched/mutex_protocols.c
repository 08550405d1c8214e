/* Priority-protect and priority-inherit mutexes raise their holder. A low
 * thread L (10) holds the mutex and becomes runnable together with a middle
 * thread M (20), made runnable first: L, raised to the ceiling (30) or to
 * its waiter H (30), runs before M. Also the ceiling's attributes, defaults
 * and errors as glibc gives them. */
#include "sched_common.h"

static pthread_mutex_t g_m;
static sem_t g_go;

static void* low(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&g_m), 0);
  CHECK(sem_wait(&g_go) == 0);
  mark('L');
  CHECK_RC(pthread_mutex_unlock(&g_m), 0);
  mark('l');
  return NULL;
}

static void* marker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  mark(*(const char*)arg);
  return NULL;
}

static void* high(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&g_m), 0);
  mark('H');
  CHECK_RC(pthread_mutex_unlock(&g_m), 0);
  return NULL;
}

/* lowered: the waiter H is lowered to 15 while it waits, and L's priority
 * follows it down, below M's. */
static void inversion(int protocol, int lowered) {
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_setprotocol(&a, protocol), 0);
  if (protocol == PTHREAD_PRIO_PROTECT) CHECK_RC(pthread_mutexattr_setprioceiling(&a, 30), 0);
  CHECK_RC(pthread_mutex_init(&g_m, &a), 0);
  CHECK_RC(pthread_mutexattr_destroy(&a), 0);

  pthread_t l = start_thread(SCHED_FIFO, 10, low, NULL);
  pause_ms(5); /* L takes the mutex and waits for g_go */
  pthread_t h = 0;
  if (protocol == PTHREAD_PRIO_INHERIT) {
    h = start_thread(SCHED_FIFO, 30, high, NULL);
    pause_ms(5); /* H waits for the mutex */
    if (lowered) {
      struct sched_param p = {.sched_priority = 15};
      CHECK_RC(pthread_setschedparam(h, SCHED_FIFO, &p), 0);
    }
  }
  pthread_t m = start_thread(SCHED_FIFO, 20, marker, (void*)"M");
  CHECK(sem_post(&g_go) == 0);
  CHECK_RC(pthread_join(l, NULL), 0);
  CHECK_RC(pthread_join(m, NULL), 0);
  if (h != 0) CHECK_RC(pthread_join(h, NULL), 0);
  /* PI: L runs at H's priority until it unlocks, H then, M, and L again;
   * with H lowered, M first, then L at 15 until H (15) takes the mutex. */
  if (lowered) {
    check_order("MLHl");
  } else {
    check_order(protocol == PTHREAD_PRIO_INHERIT ? "LHMl" : "LMl");
  }
  CHECK_RC(pthread_mutex_destroy(&g_m), 0);
}

static void* lock_refused(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock((pthread_mutex_t*)arg), EINVAL);
  return NULL;
}

/* A chain: H waits for m2, held by M, which waits for m1, held by L. */
static pthread_mutex_t g_m1, g_m2;
static void* chain_low(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&g_m1), 0);
  CHECK(sem_wait(&g_go) == 0);
  mark('L');
  CHECK_RC(pthread_mutex_unlock(&g_m1), 0);
  mark('l');
  return NULL;
}

static void* chain_middle(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&g_m2), 0);
  CHECK_RC(pthread_mutex_lock(&g_m1), 0);
  mark('M');
  CHECK_RC(pthread_mutex_unlock(&g_m1), 0);
  CHECK_RC(pthread_mutex_unlock(&g_m2), 0);
  return NULL;
}

static void* chain_high(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&g_m2), 0);
  mark('H');
  CHECK_RC(pthread_mutex_unlock(&g_m2), 0);
  return NULL;
}

/* H's priority reaches L through M: L runs before X (20), which is above
 * M's own (15). */
static void chain(void) {
  pthread_mutexattr_t a;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT), 0);
  CHECK_RC(pthread_mutex_init(&g_m1, &a), 0);
  CHECK_RC(pthread_mutex_init(&g_m2, &a), 0);
  CHECK_RC(pthread_mutexattr_destroy(&a), 0);
  pthread_t l = start_thread(SCHED_FIFO, 10, chain_low, NULL);
  pause_ms(5);
  pthread_t m = start_thread(SCHED_FIFO, 15, chain_middle, NULL);
  pause_ms(5);
  pthread_t h = start_thread(SCHED_FIFO, 30, chain_high, NULL);
  pause_ms(5);
  pthread_t x = start_thread(SCHED_FIFO, 20, marker, (void*)"X");
  CHECK(sem_post(&g_go) == 0);
  CHECK_RC(pthread_join(l, NULL), 0);
  CHECK_RC(pthread_join(m, NULL), 0);
  CHECK_RC(pthread_join(h, NULL), 0);
  CHECK_RC(pthread_join(x, NULL), 0);
  check_order("LMHXl");
  CHECK_RC(pthread_mutex_destroy(&g_m1), 0);
  CHECK_RC(pthread_mutex_destroy(&g_m2), 0);
}

static void* hold_a_while(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock((pthread_mutex_t*)arg), 0);
  pause_ms(20);
  mark('u');
  CHECK_RC(pthread_mutex_unlock((pthread_mutex_t*)arg), 0);
  return NULL;
}

static void ceilings(void) {
  pthread_mutexattr_t a;
  int c = -1;
  CHECK_RC(pthread_mutexattr_init(&a), 0);
  CHECK_RC(pthread_mutexattr_getprioceiling(&a, &c), 0);
  CHECK_MSG(c == sched_get_priority_min(SCHED_FIFO), "default ceiling %d", c);
  CHECK_RC(pthread_mutexattr_setprioceiling(&a, sched_get_priority_min(SCHED_FIFO) - 1), EINVAL);
  CHECK_RC(pthread_mutexattr_setprioceiling(&a, sched_get_priority_max(SCHED_FIFO) + 1), EINVAL);
  CHECK_RC(pthread_mutexattr_setprotocol(&a, 7), EINVAL);

  pthread_mutex_t plain;
  CHECK_RC(pthread_mutex_init(&plain, &a), 0);
  CHECK_RC(pthread_mutex_getprioceiling(&plain, &c), EINVAL); /* no ceiling without PP */
  CHECK_RC(pthread_mutex_setprioceiling(&plain, 20, &c), EINVAL);

  CHECK_RC(pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_PROTECT), 0);
  pthread_mutex_t pp;
  CHECK_RC(pthread_mutex_init(&pp, &a), 0);
  CHECK_RC(pthread_mutex_getprioceiling(&pp, &c), 0);
  CHECK_MSG(c == sched_get_priority_min(SCHED_FIFO), "default mutex ceiling %d", c);
  CHECK_RC(pthread_mutex_setprioceiling(&pp, 100, &c), EINVAL);
  int old = -1;
  CHECK_RC(pthread_mutex_setprioceiling(&pp, 40, &old), 0);
  CHECK(old == sched_get_priority_min(SCHED_FIFO));
  CHECK_RC(pthread_mutex_getprioceiling(&pp, &c), 0);
  CHECK(c == 40);
  /* glibc refuses a thread above the ceiling, and one it cannot raise to
   * it: a SCHED_OTHER thread (sched_setscheduler refuses it a priority). */
  set_self(SCHED_FIFO, 45);
  CHECK_RC(pthread_mutex_lock(&pp), EINVAL);
  CHECK_RC(pthread_mutex_trylock(&pp), EINVAL);
  /* In a thread of its own: glibc's failed attempt leaves the thread's
   * ceiling bookkeeping raised. */
  pthread_t other = start_thread(SCHED_OTHER, 0, lock_refused, &pp);
  CHECK_RC(pthread_join(other, NULL), 0);
  set_self(SCHED_FIFO, 20);
  CHECK_RC(pthread_mutex_lock(&pp), 0);
  /* glibc raises the holder with sched_setscheduler: the kernel's answer
   * shows the ceiling, glibc's own does not. */
  struct sched_param sp;
  int policy;
  CHECK(sched_getparam(0, &sp) == 0 && sp.sched_priority == 40);
  CHECK_RC(pthread_getschedparam(pthread_self(), &policy, &sp), 0);
  CHECK(policy == SCHED_FIFO && sp.sched_priority == 20);
  CHECK_RC(pthread_mutex_unlock(&pp), 0);
  CHECK(sched_getparam(0, &sp) == 0 && sp.sched_priority == 20);
  set_self(SCHED_FIFO, 40);
  /* A ceiling changes under the mutex: the call waits for its holder. */
  pthread_t holder = start_thread(SCHED_FIFO, 30, hold_a_while, &pp);
  pause_ms(5);
  CHECK_RC(pthread_mutex_setprioceiling(&pp, 35, &old), 0);
  mark('c');
  check_order("uc");
  CHECK(old == 40);
  CHECK_RC(pthread_join(holder, NULL), 0);
  CHECK_RC(pthread_mutex_getprioceiling(&pp, &c), 0);
  CHECK(c == 35);
  CHECK_RC(pthread_mutex_destroy(&pp), 0);
  CHECK_RC(pthread_mutex_destroy(&plain), 0);
  CHECK_RC(pthread_mutexattr_destroy(&a), 0);
}

int main(void) {
  pin_to_one_cpu();
  set_self(SCHED_FIFO, 50);
  CHECK(sem_init(&g_go, 0, 0) == 0);
  inversion(PTHREAD_PRIO_PROTECT, 0);
  inversion(PTHREAD_PRIO_INHERIT, 0);
  inversion(PTHREAD_PRIO_INHERIT, 1);
  chain();
  ceilings();
  set_self(SCHED_OTHER, 0);
  CHECK_ONE_KERNEL_THREAD();
  puts("mutex_protocols: holders were raised");
  return 0;
}
