/* A thread calls exit(3) while another spins without library calls and a
 * third sleeps: the whole process ends, with status 3, at once. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "spinner.h"

static void* sleeper(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  sleep(10); /* far longer than the test: exit(3) must not wait for it */
  CHECK_MSG(0, "the sleeper outlived exit(3)");
  return NULL;
}

static void* exiter(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  usleep(30 * 1000); /* let the spinner and the sleeper get going */
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "exit_from_thread: calling exit(3) from a thread while one thread spins (%ld spins "
      "so far) and one sleeps\n",
      atomic_load(&spins));
  exit(3);
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_t spin, sleepy, ex;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);
  CHECK_RC(pthread_create(&sleepy, NULL, sleeper, NULL), 0);
  CHECK_RC(pthread_create(&ex, NULL, exiter, NULL), 0);
  CHECK_RC(pthread_join(sleepy, NULL), 0);
  CHECK_MSG(0, "main got past joining the sleeper: exit(3) did not end the process");
}
