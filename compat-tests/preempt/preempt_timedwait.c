/* A timed condition wait must time out on schedule while another thread
 * busy-spins forever without calling the library: only a timer preemption
 * can bring the waiter back. Then main exits with the spinner still running.
 * usage: preempt_timedwait realtime|monotonic  (the condvar's clock) */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "spinner.h"

enum { WAIT_MS = 50, SLACK_MS = 200 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_signalled;

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  CHECK_MSG(argc == 2, "usage: %s realtime|monotonic", argv[0]);
  clockid_t cond_clock;
  if (strcmp(argv[1], "realtime") == 0)
    cond_clock = CLOCK_REALTIME;
  else if (strcmp(argv[1], "monotonic") == 0)
    cond_clock = CLOCK_MONOTONIC;
  else
    CHECK_MSG(0, "unknown clock '%s'", argv[1]);

  pthread_condattr_t attr;
  CHECK_RC(pthread_condattr_init(&attr), 0);
  CHECK_RC(pthread_condattr_setclock(&attr, cond_clock), 0);
  clockid_t got_clock;
  CHECK_RC(pthread_condattr_getclock(&attr, &got_clock), 0);
  CHECK(got_clock == cond_clock);
  CHECK_RC(pthread_cond_init(&never_signalled, &attr), 0);
  CHECK_RC(pthread_condattr_destroy(&attr), 0);

  pthread_t spin;
  CHECK_RC(pthread_create(&spin, NULL, spinner, NULL), 0);

  CHECK_RC(pthread_mutex_lock(&lock), 0);
  int64_t start = now_ns();
  struct timespec deadline = deadline_after(cond_clock, WAIT_MS * NS_PER_MS);
  int rc;
  /* Loop: a spurious wakeup is allowed, an early ETIMEDOUT is not. */
  do rc = pthread_cond_timedwait(&never_signalled, &lock, &deadline);
  while (rc == 0);
  int64_t woke_at_clock = clock_ns(cond_clock);
  int64_t waited = now_ns() - start;
  CHECK_RC(rc, ETIMEDOUT);
  CHECK_RC(pthread_mutex_unlock(&lock), 0);

  CHECK_MSG(woke_at_clock >= timespec_to_ns(&deadline), "timed out %.3f ms before the deadline",
            (double)(timespec_to_ns(&deadline) - woke_at_clock) / NS_PER_MS);
  CHECK_MSG(waited <= (WAIT_MS + SLACK_MS) * NS_PER_MS,
            "a %d ms timed wait took %.1f ms (allowed %d ms)", WAIT_MS, (double)waited / NS_PER_MS,
            WAIT_MS + SLACK_MS);
  long spun = atomic_load(&spins);
  CHECK_MSG(spun > 0, "the spinner never ran while main waited");

  CHECK_ONE_KERNEL_THREAD();
  printf(
      "preempt_timedwait: %s cond_timedwait(%d ms) returned ETIMEDOUT after %.1f ms "
      "while a call-free thread spun (%ld spins); exiting with it still running\n",
      argv[1], WAIT_MS, (double)waited / NS_PER_MS, spun);
  fflush(stdout);
  exit(0);
}
