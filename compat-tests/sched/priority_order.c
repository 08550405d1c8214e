/* Threads run by priority, as Linux runs them on one CPU: the highest
 * runnable SCHED_FIFO/SCHED_RR priority first, FIFO among equals, before
 * SCHED_OTHER threads; a thread made runnable above the running one preempts
 * it; a created thread inherits its creator's policy unless the attribute
 * says otherwise; pthread_setschedparam, pthread_setschedprio and
 * sched_setscheduler/sched_setparam on the caller take effect at once. */
#include "sched_common.h"

static void* marker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  mark(*(const char*)arg);
  return NULL;
}

static volatile int g_created_ran;
static void* higher(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  g_created_ran = 1;
  return NULL;
}

static void* inheritor(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  int policy;
  struct sched_param p;
  CHECK_RC(pthread_getschedparam(pthread_self(), &policy, &p), 0);
  CHECK_MSG(policy == SCHED_RR && p.sched_priority == 40, "inherited %d/%d", policy,
            p.sched_priority);
  mark('i');
  return NULL;
}

int main(void) {
  pin_to_one_cpu();
  set_self(SCHED_FIFO, 50);

  /* Made in rising order while main outranks them all: they run highest
   * first once main blocks, the SCHED_OTHER one last, equals in order. */
  static const char* names = "aobcd";
  pthread_t t[5];
  t[0] = start_thread(SCHED_FIFO, 10, marker, (void*)&names[0]);
  t[1] = start_thread(SCHED_OTHER, 0, marker, (void*)&names[1]);
  t[2] = start_thread(SCHED_RR, 20, marker, (void*)&names[2]);
  t[3] = start_thread(SCHED_FIFO, 30, marker, (void*)&names[3]);
  /* (SCHED_FIFO: two SCHED_RR equals may take turns at any tick.) */
  t[4] = start_thread(SCHED_FIFO, 30, marker, (void*)&names[4]);
  CHECK(g_order_len == 0);
  for (int i = 0; i < 5; ++i) CHECK_RC(pthread_join(t[i], NULL), 0);
  check_order("dcbao");

  /* A created thread above its creator runs before pthread_create returns. */
  pthread_t h = start_thread(SCHED_FIFO, 60, higher, NULL);
  CHECK_MSG(g_created_ran == 1, "a higher-priority thread did not preempt its creator");
  CHECK_RC(pthread_join(h, NULL), 0);

  /* Inherited scheduling: the creator's policy and priority. */
  set_self(SCHED_RR, 40);
  pthread_t q;
  CHECK_RC(pthread_create(&q, NULL, inheritor, NULL), 0);
  pthread_t low = start_thread(SCHED_FIFO, 39, marker, (void*)"l");
  /* Main lowers itself below both: they run at once (the inherited one
   * first), before sched_setscheduler returns. */
  struct sched_param p = {.sched_priority = 5};
  CHECK(sched_setscheduler(0, SCHED_FIFO, &p) == 0);
  check_order("il");
  CHECK(sched_getscheduler(0) == SCHED_FIFO);
  CHECK(sched_getparam(0, &p) == 0 && p.sched_priority == 5);
  /* (pthread_getschedparam is not asked: glibc answers it from what
   * pthread_setschedparam last set, not from the kernel.) */
  CHECK_RC(pthread_join(q, NULL), 0);
  CHECK_RC(pthread_join(low, NULL), 0);

  /* Raising a runnable thread reorders it; raising it above the caller
   * preempts the caller. */
  set_self(SCHED_FIFO, 50);
  pthread_t x = start_thread(SCHED_FIFO, 10, marker, (void*)"x");
  pthread_t y = start_thread(SCHED_FIFO, 20, marker, (void*)"y");
  CHECK_RC(pthread_setschedprio(x, 30), 0);
  CHECK(g_order_len == 0);
  p.sched_priority = 55;
  CHECK_RC(pthread_setschedparam(y, SCHED_RR, &p), 0);
  check_order("y");
  p.sched_priority = 40;
  CHECK(sched_setparam(0, &p) == 0);
  CHECK(g_order_len == 0);
  p.sched_priority = 20;
  CHECK(sched_setparam(getpid(), &p) == 0);
  check_order("x");
  CHECK_RC(pthread_join(x, NULL), 0);
  CHECK_RC(pthread_join(y, NULL), 0);

  set_self(SCHED_OTHER, 0);
  CHECK_ONE_KERNEL_THREAD();
  puts("priority_order: threads ran by priority");
  return 0;
}
