/* pthread_attr_setsigmask_np: a thread created with the attribute starts
 * with that signal mask, not its creator's; getsigmask_np reports it, and
 * PTHREAD_ATTR_NO_SIGMASK_NP (with an empty set) before one is set and after
 * a null mask forgets it. A thread created without it inherits its creator's
 * mask. */
#include <pthread.h>
#include <signal.h>

#include "check.h"

static sigset_t seen;

static void* record_mask(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_RC(pthread_sigmask(SIG_SETMASK, NULL, &seen), 0);
  return NULL;
}

static void run(const pthread_attr_t* attr) {
  pthread_t t;
  CHECK_RC(pthread_create(&t, attr, record_mask, NULL), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
}

int main(void) {
  sigset_t creator;
  sigemptyset(&creator);
  sigaddset(&creator, SIGUSR1);
  CHECK_RC(pthread_sigmask(SIG_BLOCK, &creator, NULL), 0);

  pthread_attr_t attr;
  CHECK_RC(pthread_attr_init(&attr), 0);
  sigset_t got;
  sigfillset(&got);
  CHECK_RC(pthread_attr_getsigmask_np(&attr, &got), PTHREAD_ATTR_NO_SIGMASK_NP);
  CHECK(!sigismember(&got, SIGUSR1));

  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGUSR2);
  sigaddset(&wanted, SIGTERM);
  CHECK_RC(pthread_attr_setsigmask_np(&attr, &wanted), 0);
  CHECK_RC(pthread_attr_getsigmask_np(&attr, &got), 0);
  CHECK(sigismember(&got, SIGUSR2) && sigismember(&got, SIGTERM) && !sigismember(&got, SIGUSR1));

  run(&attr);
  CHECK_MSG(
      sigismember(&seen, SIGUSR2) && sigismember(&seen, SIGTERM) && !sigismember(&seen, SIGUSR1),
      "the new thread did not start with the attribute's mask");
  run(NULL);
  CHECK_MSG(sigismember(&seen, SIGUSR1) && !sigismember(&seen, SIGUSR2),
            "a thread without the attribute did not inherit its creator's mask");

  CHECK_RC(pthread_attr_setsigmask_np(&attr, NULL), 0);
  CHECK_RC(pthread_attr_getsigmask_np(&attr, &got), PTHREAD_ATTR_NO_SIGMASK_NP);
  run(&attr);
  CHECK_MSG(sigismember(&seen, SIGUSR1), "a forgotten mask still applied");
  CHECK_RC(pthread_attr_destroy(&attr), 0);
  CHECK_ONE_KERNEL_THREAD();
  printf("attr_sigmask ok\n");
  return 0;
}
