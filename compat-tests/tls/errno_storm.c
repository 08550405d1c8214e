/* errno under a storm of switches: 8 threads each keep their own errno value
 * through call-free spins (where the timer preempts them), sleeps and yields,
 * and each makes its own kind of failing system call, whose errno must stay
 * the caller's after the others ran.
 * usage: errno_storm [MILLISECONDS]   (default 1500) */
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>

#include "check.h"
#include "storm.h"

enum { THREADS = 8 };

static int64_t deadline;
static char long_path[5000]; /* longer than PATH_MAX: ENAMETOOLONG */
static long rounds[THREADS], preempted_spins[THREADS];

/* A system call that fails with a different errno in every thread. */
static int failing_call(int idx, int* want) {
  char buf[1];
  switch (idx) {
    case 0:
      *want = EBADF;
      return close(-1);
    case 1:
      *want = ENOENT;
      return open("/nonexistent-ptshim-errno-storm/file", O_RDONLY);
    case 2:
      *want = ENOTDIR;
      return open("/dev/null/file", O_RDONLY);
    case 3:
      *want = EISDIR;
      return open("/", O_WRONLY);
    case 4:
      *want = EINVAL;
      return (int)lseek(STDERR_FILENO, 0, 12345);
    case 5:
      *want = ERANGE;
      return getcwd(buf, sizeof buf) == NULL ? -1 : 0;
    case 6:
      *want = EEXIST;
      return mkdir("/", 0700);
    default:
      *want = ENAMETOOLONG;
      return open(long_path, O_RDONLY);
  }
}

#define CHECK_ERRNO(want, after)                                                               \
  CHECK_MSG(errno == (want), "thread %d round %ld: errno %d (%s) after %s, want %d (%s)", idx, \
            round, errno, strerror(errno), after, want, strerror(want))

static void* worker(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  int idx = (int)(long)arg;
  uint64_t rng = storm_seed(idx);
  long round = 0;
  int want;
  errno = 0;
  for (; now_ns() < deadline; round++) {
    /* The thread's own value, through a spin, a yield and sometimes a sleep. */
    int mine = (idx + 1) * 100000 + (int)(round % 100000);
    errno = mine;
    preempted_spins[idx] += storm_spin_watch(idx, storm_rand(&rng) % 300000);
    CHECK_ERRNO(mine, "a spin");
    sched_yield();
    CHECK_ERRNO(mine, "sched_yield");
    if (round % 4 == 0) {
      usleep(10 + (useconds_t)(storm_rand(&rng) % 200));
      CHECK_ERRNO(mine, "usleep");
    }

    /* A failing call sets this thread's errno, and only this thread's. */
    errno = 0;
    int rc = failing_call(idx, &want);
    CHECK_MSG(rc == -1, "thread %d: the failing call returned %d", idx, rc);
    CHECK_ERRNO(want, "the failing call");
    preempted_spins[idx] += storm_spin_watch(idx, storm_rand(&rng) % 300000);
    CHECK_ERRNO(want, "a spin after the failing call");
    sched_yield();
    CHECK_ERRNO(want, "sched_yield after the failing call");
    if (round % 4 == 2) {
      usleep(10 + (useconds_t)(storm_rand(&rng) % 200));
      CHECK_ERRNO(want, "usleep after the failing call");
    }
  }
  rounds[idx] = round;
  CHECK_ON_MAIN_KERNEL_THREAD();
  return NULL;
}

int main(int argc, char** argv) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  memset(long_path, 'a', sizeof long_path - 1);
  long_path[0] = '/';
  int64_t start = now_ns();
  deadline = storm_deadline(argc, argv, 1, start);
  errno = 77;
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK_RC(pthread_create(&t[i], NULL, worker, (void*)i), 0);
  CHECK_MSG(errno == 77, "main's errno became %d while creating threads", errno);
  for (int i = 0; i < THREADS; i++) {
    CHECK_RC(pthread_join(t[i], NULL), 0);
    CHECK_MSG(errno == 77, "main's errno became %d after joining thread %d", errno, i);
  }
  long total_rounds = 0, total_preempted = 0;
  for (int i = 0; i < THREADS; i++) {
    CHECK_MSG(rounds[i] > 0, "thread %d ran no round", i);
    total_rounds += rounds[i];
    total_preempted += preempted_spins[i];
  }
  CHECK_MSG(total_preempted > 0, "no thread was ever switched out in the middle of a spin");
  CHECK_ONE_KERNEL_THREAD();
  printf(
      "errno_storm: %d threads, %ld rounds in %.0f ms, %ld spins interrupted by another "
      "thread; errno always the thread's own (8 different failing calls)\n",
      THREADS, total_rounds, (double)(now_ns() - start) / NS_PER_MS, total_preempted);
  return 0;
}
