/* Bad scheduling requests fail as glibc and Linux fail them: EINVAL for a
 * priority outside the policy's range or an unknown policy, EPERM for a
 * real-time raise an unprivileged process may not make (a child without
 * CAP_SYS_NICE, under RLIMIT_RTPRIO); pid 0 and the process's own pid name
 * the calling thread, any other pid another process. */
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "sched_common.h"

static void* nothing(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  return arg;
}

static int create_explicit(int policy, int priority, int set_param) {
  pthread_attr_t a;
  CHECK_RC(pthread_attr_init(&a), 0);
  CHECK_RC(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED), 0);
  CHECK_RC(pthread_attr_setschedpolicy(&a, policy), 0);
  struct sched_param p = {.sched_priority = priority};
  if (set_param) CHECK_RC(pthread_attr_setschedparam(&a, &p), 0);
  pthread_t t;
  int err = pthread_create(&t, &a, nothing, NULL);
  if (err == 0) CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_RC(pthread_attr_destroy(&a), 0);
  return err;
}

static int set(int policy, int priority) {
  struct sched_param p = {.sched_priority = priority};
  return pthread_setschedparam(pthread_self(), policy, &p);
}

static void drop_cap_sys_nice(void) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  CHECK(syscall(SYS_capget, &h, d) == 0);
  d[0].effective &= ~(1u << CAP_SYS_NICE);
  d[0].permitted &= ~(1u << CAP_SYS_NICE);
  CHECK(syscall(SYS_capset, &h, d) == 0);
}

/* Starts as SCHED_FIFO 10, its parent's, under RLIMIT_RTPRIO 0 (raising it
 * needs CAP_SYS_RESOURCE, which these tests may not have). */
static void unprivileged_child(void) {
  struct rlimit r = {0, 0};
  CHECK(setrlimit(RLIMIT_RTPRIO, &r) == 0);
  drop_cap_sys_nice();
  /* Lowering needs no privilege; raising or a new real-time policy does. */
  CHECK_RC(set(SCHED_FIFO, 5), 0);
  CHECK_RC(set(SCHED_FIFO, 6), EPERM);
  CHECK_RC(pthread_setschedprio(pthread_self(), 6), EPERM);
  CHECK_RC(pthread_setschedprio(pthread_self(), 4), 0);
  struct sched_param p = {.sched_priority = 4};
  errno = 0;
  CHECK(sched_setscheduler(0, SCHED_RR, &p) == -1 && errno == EPERM);
  CHECK_RC(create_explicit(SCHED_FIFO, 5, 1), EPERM);
  CHECK_RC(create_explicit(SCHED_RR, 4, 1), EPERM);
  CHECK_RC(create_explicit(SCHED_FIFO, 3, 1), 0);
  CHECK_RC(set(SCHED_OTHER, 0), 0);
  CHECK_RC(set(SCHED_FIFO, 1), EPERM);
  errno = 0;
  p.sched_priority = 1;
  CHECK(sched_setscheduler(getpid(), SCHED_FIFO, &p) == -1 && errno == EPERM);
  CHECK(sched_getscheduler(0) == SCHED_OTHER);
  _exit(0);
}

int main(void) {
  pin_to_one_cpu();
  CHECK_RC(set(SCHED_FIFO, 0), EINVAL);
  CHECK_RC(set(SCHED_FIFO, 100), EINVAL);
  CHECK_RC(set(SCHED_RR, -1), EINVAL);
  CHECK_RC(set(SCHED_OTHER, 5), EINVAL);
  CHECK_RC(set(12345, 0), EINVAL);
  CHECK_RC(pthread_setschedprio(pthread_self(), 1), EINVAL); /* SCHED_OTHER: only 0 */
  struct sched_param p = {.sched_priority = 0};
  errno = 0;
  CHECK(sched_setscheduler(0, SCHED_FIFO, &p) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(sched_setscheduler(-1, SCHED_OTHER, &p) == -1 && errno == EINVAL);
  errno = 0;
  p.sched_priority = 100;
  CHECK(sched_setparam(0, &p) == -1 && errno == EINVAL);
  pthread_attr_t a;
  CHECK_RC(pthread_attr_init(&a), 0);
  CHECK_RC(pthread_attr_setschedpolicy(&a, SCHED_FIFO), 0);
  CHECK_RC(pthread_attr_setschedparam(&a, &p), EINVAL);
  CHECK_RC(pthread_attr_setschedpolicy(&a, 12345), EINVAL);
  CHECK_RC(pthread_attr_setinheritsched(&a, 12345), EINVAL);
  CHECK_RC(pthread_attr_destroy(&a), 0);
  /* SCHED_FIFO from the attribute, priority 0 from the SCHED_OTHER creator. */
  CHECK_RC(create_explicit(SCHED_FIFO, 0, 0), EINVAL);

  /* The caller's settings are what sched_getscheduler/getparam(0) see. */
  CHECK_RC(set(SCHED_RR, 7), 0);
  CHECK(sched_getscheduler(0) == SCHED_RR);
  CHECK(sched_getscheduler(getpid()) == SCHED_RR);
  CHECK(sched_getparam(0, &p) == 0 && p.sched_priority == 7);
  CHECK_RC(set(SCHED_OTHER, 0), 0);
  /* Any other pid is the kernel's to answer: none has this one. */
  errno = 0;
  CHECK(sched_getscheduler(999999999) == -1 && errno == ESRCH);

  CHECK_RC(set(SCHED_FIFO, 10), 0);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) unprivileged_child();
  int status;
  CHECK(waitpid(child, &status, 0) == child);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the unprivileged child failed");
  CHECK_RC(set(SCHED_OTHER, 0), 0);

  /* A change another process makes to a process is what its own
   * sched_getscheduler(0) then sees. */
  int ready[2];
  CHECK(pipe(ready) == 0);
  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    char byte;
    CHECK(read(ready[0], &byte, 1) == 1);
    struct sched_param mine;
    CHECK(sched_getscheduler(0) == SCHED_RR);
    CHECK(sched_getparam(0, &mine) == 0 && mine.sched_priority == 7);
    _exit(0);
  }
  p.sched_priority = 7;
  CHECK(sched_setscheduler(child, SCHED_RR, &p) == 0);
  CHECK(write(ready[1], "x", 1) == 1);
  CHECK(waitpid(child, &status, 0) == child);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child did not see its new policy");

  CHECK_ONE_KERNEL_THREAD();
  puts("sched_errors: refused as Linux refuses");
  return 0;
}
