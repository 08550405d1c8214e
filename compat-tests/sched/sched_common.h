/* Shared by the priority tests: one CPU natively (under ptshim the call is
 * only recorded), real-time threads made with explicit attributes, and a
 * record of the order in which threads reached their marks. */
#ifndef COMPAT_SCHED_COMMON_H
#define COMPAT_SCHED_COMMON_H

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>

#include "check.h"

/* Natively, Linux's one-CPU behaviour is what the tests encode. */
static inline void pin_to_one_cpu(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  CHECK(sched_setaffinity(0, sizeof set, &set) == 0);
}

static inline void set_self(int policy, int priority) {
  struct sched_param p = {.sched_priority = priority};
  CHECK_RC(pthread_setschedparam(pthread_self(), policy, &p), 0);
}

static inline pthread_t start_thread(int policy, int priority, void* (*fn)(void*), void* arg) {
  pthread_attr_t a;
  CHECK_RC(pthread_attr_init(&a), 0);
  CHECK_RC(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED), 0);
  CHECK_RC(pthread_attr_setschedpolicy(&a, policy), 0);
  struct sched_param p = {.sched_priority = priority};
  CHECK_RC(pthread_attr_setschedparam(&a, &p), 0);
  pthread_t t;
  CHECK_RC(pthread_create(&t, &a, fn, arg), 0);
  CHECK_RC(pthread_attr_destroy(&a), 0);
  return t;
}

/* Lets every runnable lower-priority thread run until it blocks. */
static inline void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* The order of marks: each thread appends a letter. */
static char g_order[64];
static int g_order_len;
static inline void mark(char c) {
  /* One instruction takes the slot: a preemption cannot split it. */
  int slot = __atomic_fetch_add(&g_order_len, 1, __ATOMIC_SEQ_CST);
  if (slot < (int)sizeof g_order - 1) g_order[slot] = c;
}
static inline void check_order(const char* want) {
  g_order[g_order_len] = '\0';
  CHECK_MSG(strcmp(g_order, want) == 0, "order %s, want %s", g_order, want);
  g_order_len = 0;
}

#endif
