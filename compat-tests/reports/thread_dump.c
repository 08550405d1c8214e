/* SIGQUIT (or with "usr1", SIGUSR1 under PTSHIM_DUMP_SIGNAL=USR1) prints
 * every thread with its state and backtrace, and the program goes on: five threads sleeping, waiting on a mutex, waiting on a condvar,
 * joining, and spinning when main raises SIGQUIT. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "check.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static atomic_int stop;
static int cond_ready;
static pthread_t sleeper_thread;

static void* dump_sleeper(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(300 * 1000);
  return NULL;
}

static void* dump_mutex_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&held), 0);
  CHECK_RC(pthread_mutex_unlock(&held), 0);
  return NULL;
}

static void* dump_cond_waiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_mutex_lock(&cond_lock), 0);
  while (!cond_ready) CHECK_RC(pthread_cond_wait(&cond, &cond_lock), 0);
  CHECK_RC(pthread_mutex_unlock(&cond_lock), 0);
  return NULL;
}

static void* dump_joiner(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_join(sleeper_thread, NULL), 0);
  return NULL;
}

static void* dump_spinner(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
  }
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int dump_signal = argc > 1 && strcmp(argv[1], "usr1") == 0 ? SIGUSR1 : SIGQUIT;
  CHECK_RC(pthread_mutex_lock(&held), 0);
  pthread_t t[4];
  CHECK_RC(pthread_create(&sleeper_thread, NULL, dump_sleeper, NULL), 0);
  CHECK_RC(pthread_create(&t[0], NULL, dump_mutex_waiter, NULL), 0);
  CHECK_RC(pthread_create(&t[1], NULL, dump_cond_waiter, NULL), 0);
  CHECK_RC(pthread_create(&t[2], NULL, dump_joiner, NULL), 0);
  CHECK_RC(pthread_create(&t[3], NULL, dump_spinner, NULL), 0);
  usleep(50 * 1000); /* everyone reaches its waiting point */
  CHECK(raise(dump_signal) == 0);
  printf("thread_dump: signal %d raised; the program goes on\n", dump_signal);
  CHECK_RC(pthread_mutex_unlock(&held), 0);
  CHECK_RC(pthread_mutex_lock(&cond_lock), 0);
  cond_ready = 1;
  CHECK_RC(pthread_cond_broadcast(&cond), 0);
  CHECK_RC(pthread_mutex_unlock(&cond_lock), 0);
  atomic_store(&stop, 1);
  for (int i = 0; i < 4; i++) CHECK_RC(pthread_join(t[i], NULL), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf("thread_dump: all threads finished normally\n");
  return 0;
}
