/* A program for the schedule's timeline (PTSHIM_TRACE): threads contend on a
 * global mutex, hand a value over through a condvar, sleep, get joined, one
 * renames itself. It prints the addresses of its objects, so that
 * compat-tests/trace/check_trace.py can compare them with the trace. It
 * knows nothing of ptshim.
 *   timeline            the run above
 *   timeline crash      a thread writes through a null pointer
 *   timeline deadlock   two threads lock two mutexes in opposite order
 *   timeline _exit      yields to a spinning thread, then ends by _exit
 *   timeline spin       yields a while, prints "spinning", then both threads
 *                       sleep 100 ms at a time (to be killed: while nothing
 *                       is written)
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"

pthread_mutex_t accounts = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t handoff_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t handoff = PTHREAD_COND_INITIALIZER;
static int handed;
static long balance;

static void* holder(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&accounts), 0);
  /* Holds the mutex across a sleep: the contender blocks on it. */
  usleep(3000);
  balance += 1;
  CHECK_RC(pthread_mutex_unlock(&accounts), 0);
  return NULL;
}

static void* contender(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_setname_np(pthread_self(), "renamed"), 0);
  usleep(500); /* the holder has the mutex by now */
  CHECK_RC(pthread_mutex_lock(&accounts), 0);
  balance += 2;
  CHECK_RC(pthread_mutex_unlock(&accounts), 0);
  return NULL;
}

static void* giver(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(1000);
  CHECK_RC(pthread_mutex_lock(&handoff_lock), 0);
  handed = 42;
  CHECK_RC(pthread_cond_signal(&handoff), 0);
  CHECK_RC(pthread_mutex_unlock(&handoff_lock), 0);
  for (int i = 0; i < 20; ++i) sched_yield();
  pthread_exit(NULL); /* the others return */
}

static void* crasher(void* arg) {
  usleep(1000);
  *(volatile int*)arg = 1;
  return NULL;
}

pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t second = PTHREAD_MUTEX_INITIALIZER;

static void* take_both(void* arg) {
  pthread_mutex_t* a = arg ? &first : &second;
  pthread_mutex_t* b = arg ? &second : &first;
  CHECK_RC(pthread_mutex_lock(a), 0);
  usleep(2000);
  CHECK_RC(pthread_mutex_lock(b), 0);
  return NULL;
}

static volatile int napping;

static void* spinner(void* arg) {
  (void)arg;
  while (!napping) sched_yield();
  for (;;) usleep(100 * 1000);
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  const char* mode = argc > 1 ? argv[1] : "timeline";
  pthread_t t[3];
  if (strcmp(mode, "crash") == 0) {
    CHECK_RC(pthread_create(&t[0], NULL, spinner, NULL), 0);
    CHECK_RC(pthread_create(&t[1], NULL, crasher, NULL), 0);
    pthread_join(t[1], NULL);
    return 1;
  }
  if (strcmp(mode, "deadlock") == 0) {
    CHECK_RC(pthread_create(&t[0], NULL, take_both, &first), 0);
    CHECK_RC(pthread_create(&t[1], NULL, take_both, NULL), 0);
    pthread_join(t[0], NULL);
    return 1;
  }
  if (strcmp(mode, "_exit") == 0) { /* ends as a shell does: no exit handlers */
    CHECK_RC(pthread_create(&t[0], NULL, spinner, NULL), 0);
    for (int i = 0; i < 10; ++i) sched_yield();
    CHECK_ONE_KERNEL_THREAD();
    _exit(0);
  }
  if (strcmp(mode, "spin") == 0) {
    CHECK_RC(pthread_create(&t[0], NULL, spinner, NULL), 0);
    for (int i = 0; i < 100; ++i) sched_yield();
    napping = 1;
    printf("spinning\n");
    fflush(stdout);
    for (;;) usleep(100 * 1000);
  }
  printf("object mutex accounts %p\n", (void*)&accounts);
  printf("object mutex handoff_lock %p\n", (void*)&handoff_lock);
  printf("object condvar handoff %p\n", (void*)&handoff);
  CHECK_RC(pthread_create(&t[0], NULL, holder, NULL), 0);
  CHECK_RC(pthread_create(&t[1], NULL, contender, NULL), 0);
  CHECK_RC(pthread_create(&t[2], NULL, giver, NULL), 0);
  CHECK_RC(pthread_mutex_lock(&handoff_lock), 0);
  while (handed == 0) CHECK_RC(pthread_cond_wait(&handoff, &handoff_lock), 0);
  CHECK_RC(pthread_mutex_unlock(&handoff_lock), 0);
  for (int i = 0; i < 3; ++i) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK(balance == 3 && handed == 42);
  usleep(200);
  printf("timeline: done\n");
  CHECK_ONE_KERNEL_THREAD();
  return 0;
}
