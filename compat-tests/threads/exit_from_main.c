/* main calls pthread_exit while three threads still run: the process must
 * live on until the last of them ends, then exit with status 0 through
 * exit(), so atexit handlers run and stdio is flushed (as glibc does).
 * The harness checks stdout for the three markers and the atexit line. */
#include <pthread.h>

#include "check.h"

enum { THREADS = 3 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int finished;

static void at_exit(void) {
  /* Runs in whichever thread ended last. */
  CHECK_ONE_KERNEL_THREAD();
  CHECK(finished == THREADS);
  printf("exit_from_main: atexit handler ran\n");
}

static void* late_worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  usleep(50 * 1000); /* main is gone by now */
  printf("exit_from_main: marker %d\n", idx);
  fflush(stdout);
  CHECK_RC(pthread_mutex_lock(&lock), 0);
  if (++finished == THREADS)
    printf("exit_from_main: main called pthread_exit; %d threads finished after it\n", THREADS);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK(atexit(at_exit) == 0);
  for (long i = 0; i < THREADS; i++) {
    pthread_t t;
    CHECK_RC(pthread_create(&t, NULL, late_worker, (void*)i), 0);
  }
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_exit(NULL);
}
