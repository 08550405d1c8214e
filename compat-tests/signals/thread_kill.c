/* pthread_kill: signal 0 tells whether a thread exists; a real signal runs
 * its handler on the target thread (seen through pthread_self in the
 * handler), when that thread next runs. A thread that has exited, joined or
 * not, is sent nothing and pthread_kill succeeds (glibc 2.34 and later);
 * pthread_sigqueue fails with ESRCH for it. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "check.h"

static pthread_t target;
static atomic_int handled_on_target;
static atomic_int handled_elsewhere;
static atomic_int stop;

static void on_usr1(int sig) {
  (void)sig;
  if (pthread_equal(pthread_self(), target)) {
    atomic_fetch_add(&handled_on_target, 1);
  } else {
    atomic_fetch_add(&handled_elsewhere, 1);
  }
}

static void* worker(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  while (!atomic_load(&stop)) usleep(1000);
  atomic_store(&stop, 2);
  return NULL;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  CHECK_RC(pthread_create(&target, NULL, worker, NULL), 0);
  CHECK_RC(pthread_kill(target, 0), 0);
  CHECK_RC(pthread_kill(target, 12345), EINVAL);
  for (int i = 0; i < 5; i++) {
    CHECK_RC(pthread_kill(target, SIGUSR1), 0);
    usleep(5 * 1000);
  }
  long long give_up = now_ns() + 2 * NS_PER_S;
  while (atomic_load(&handled_on_target) < 1 && now_ns() < give_up) usleep(1000);
  CHECK_MSG(atomic_load(&handled_on_target) >= 1 && atomic_load(&handled_elsewhere) == 0,
            "handler ran %d times on the target, %d elsewhere", atomic_load(&handled_on_target),
            atomic_load(&handled_elsewhere));
  atomic_store(&stop, 1);
  while (atomic_load(&stop) != 2) usleep(1000); /* the target is about to return */
  usleep(20 * 1000);
  CHECK_RC(pthread_kill(target, SIGUSR1), 0); /* exited, not joined */
  union sigval value = {0};
  CHECK_RC(pthread_sigqueue(target, SIGUSR1, value), ESRCH);
  CHECK_RC(pthread_join(target, NULL), 0);
  CHECK_RC(pthread_kill(target, 0), 0); /* joined */
  CHECK_RC(pthread_kill(pthread_self(), 0), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf("thread_kill: signal 0 checks existence; SIGUSR1 handled on the target thread\n");
  return 0;
}
