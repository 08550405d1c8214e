// An ordinary pthread program for the gdb extension's test
// (scripts/gdb/check-gdb.sh): it knows nothing of ptshim. Its threads block
// in known places, then main calls all_blocked(), where the test's gdb
// stops; continued, main releases them all and the program ends with "done".
//   "holder"   holds mutex `m` and waits on condvar `hold_cond`
//   "locker"   waits_on_mutex(): for `m`, held by "holder"
//   cond_main  (unnamed) waits_on_cond(): on condvar `go` with `gate`
//   "joiner"   waits_on_join(): joins the cond_main thread
//   "sleeper"  sleeps_long(): nanosleep for 100 s (cancelled at the end), two
//              of them: one stack for `info uthreads /g` to group
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
pthread_cond_t go = PTHREAD_COND_INITIALIZER;
int released;
pthread_t cond_thread;

__attribute__((noinline)) void all_blocked(void) { asm volatile("" ::: "memory"); }

static void wait_released(pthread_cond_t* c) {
  pthread_mutex_lock(&gate);
  while (!released) pthread_cond_wait(c, &gate);
  pthread_mutex_unlock(&gate);
}

static void* holder_main(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  wait_released(&hold_cond);
  pthread_mutex_unlock(&m);
  return NULL;
}

__attribute__((noinline)) void waits_on_mutex(void) {
  pthread_mutex_lock(&m);
  pthread_mutex_unlock(&m);
}
static void* locker_main(void* arg) {
  (void)arg;
  waits_on_mutex();
  return NULL;
}

__attribute__((noinline)) void waits_on_cond(void) { wait_released(&go); }
void* cond_main(void* arg) {
  (void)arg;
  waits_on_cond();
  return (void*)42;
}

__attribute__((noinline)) long waits_on_join(void) {
  void* result;
  if (pthread_join(cond_thread, &result) != 0) abort();
  return (long)result;
}
static void* joiner_main(void* arg) {
  (void)arg;
  return (void*)waits_on_join();
}

__attribute__((noinline)) void sleeps_long(void) {
  struct timespec t = {100, 0};
  nanosleep(&t, NULL);
}
static void* sleeper_main(void* arg) {
  (void)arg;
  sleeps_long();
  return NULL;
}

static pthread_t start(void* (*fn)(void*), const char* name) {
  pthread_t t;
  if (pthread_create(&t, NULL, fn, NULL) != 0) abort();
  if (name != NULL) pthread_setname_np(t, name);
  return t;
}

static int* volatile crash_target;  // null: `blocked crash` dies here

int main(int argc, char** argv) {
  pthread_t holder = start(holder_main, "holder");
  usleep(50000);  // holder has m before locker asks for it
  pthread_t locker = start(locker_main, "locker");
  cond_thread = start(cond_main, NULL);
  usleep(50000);  // cond_main runs before it is joined
  pthread_t joiner = start(joiner_main, "joiner");
  pthread_t sleeper = start(sleeper_main, "sleeper");
  pthread_t sleeper2 = start(sleeper_main, "sleeper");
  usleep(200000);
  all_blocked();
  if (argc > 1 && strcmp(argv[1], "crash") == 0) *crash_target = 1;

  pthread_mutex_lock(&gate);
  released = 1;
  pthread_cond_broadcast(&hold_cond);
  pthread_cond_broadcast(&go);
  pthread_mutex_unlock(&gate);
  pthread_cancel(sleeper);
  pthread_cancel(sleeper2);
  void* joined;
  pthread_join(holder, NULL);
  pthread_join(locker, NULL);
  pthread_join(joiner, &joined);
  pthread_join(sleeper, NULL);
  pthread_join(sleeper2, NULL);
  if ((long)joined != 42) {
    fprintf(stderr, "joiner got %ld\n", (long)joined);
    return 1;
  }
  puts("done");
  return 0;
}
