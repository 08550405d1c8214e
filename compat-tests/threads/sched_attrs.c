/* Scheduling attributes at creation: PTHREAD_EXPLICIT_SCHED applies the
 * attribute's policy and priority, PTHREAD_INHERIT_SCHED (the default) the
 * creator's, and pthread_getschedparam reports what the thread got. A
 * real-time policy needs privilege (CAP_SYS_NICE, or a high enough
 * RLIMIT_RTPRIO): without it pthread_create fails with EPERM, as the kernel
 * refuses sched_setscheduler. A priority must suit the attribute's policy. */
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check.h"

struct seen {
  int policy;
  int priority;
};

static void* report_own_params(void* arg) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct seen* s = arg;
  struct sched_param p;
  CHECK_RC(pthread_getschedparam(pthread_self(), &s->policy, &p), 0);
  s->priority = p.sched_priority;
  return NULL;
}

static struct seen run_with(const pthread_attr_t* attr) {
  struct seen s = {-1, -1};
  pthread_t t;
  CHECK_RC(pthread_create(&t, attr, report_own_params, &s), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  return s;
}

static void explicit_attr(pthread_attr_t* a, int policy, int priority) {
  CHECK_RC(pthread_attr_init(a), 0);
  CHECK_RC(pthread_attr_setinheritsched(a, PTHREAD_EXPLICIT_SCHED), 0);
  CHECK_RC(pthread_attr_setschedpolicy(a, policy), 0);
  struct sched_param p = {.sched_priority = priority};
  CHECK_RC(pthread_attr_setschedparam(a, &p), 0);
}

/* Runs as a SCHED_FIFO 10 thread: its children inherit that, or not. */
static void* fifo_parent(void* arg) {
  (void)arg;
  CHECK_ON_MAIN_KERNEL_THREAD();
  struct seen inherited = run_with(NULL);
  CHECK_MSG(inherited.policy == SCHED_FIFO && inherited.priority == 10,
            "a default-attribute child got policy %d priority %d, not its creator's 1/10",
            inherited.policy, inherited.priority);
  pthread_attr_t a;
  explicit_attr(&a, SCHED_OTHER, 0);
  struct seen other = run_with(&a);
  CHECK_MSG(other.policy == SCHED_OTHER && other.priority == 0,
            "an explicit SCHED_OTHER child got policy %d priority %d", other.policy,
            other.priority);
  CHECK_RC(pthread_attr_destroy(&a), 0);
  return NULL;
}

/* Whether the kernel lets this process use SCHED_FIFO priority 10. */
static int may_use_realtime(void) {
  FILE* f = fopen("/proc/self/status", "r");
  CHECK(f != NULL);
  char line[256];
  unsigned long long caps = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "CapEff: %llx", &caps) == 1) break;
  }
  fclose(f);
  struct rlimit rt;
  CHECK(getrlimit(RLIMIT_RTPRIO, &rt) == 0);
  return (caps & (1ULL << 23)) != 0 /* CAP_SYS_NICE */ || rt.rlim_cur == RLIM_INFINITY ||
         rt.rlim_cur >= 10;
}

int main(void) {
  CHECK_ON_MAIN_KERNEL_THREAD();
  pthread_attr_t a;
  int v;
  CHECK_RC(pthread_attr_init(&a), 0);
  CHECK_RC(pthread_attr_getinheritsched(&a, &v), 0);
  CHECK(v == PTHREAD_INHERIT_SCHED);
  CHECK_RC(pthread_attr_getschedpolicy(&a, &v), 0);
  CHECK(v == SCHED_OTHER);

  /* Inherit (the default) ignores the attribute's policy. */
  CHECK_RC(pthread_attr_setschedpolicy(&a, SCHED_FIFO), 0);
  struct seen s = run_with(&a);
  CHECK_MSG(s.policy == SCHED_OTHER && s.priority == 0,
            "an inheriting child got policy %d priority %d, not main's 0/0", s.policy, s.priority);
  CHECK_RC(pthread_attr_destroy(&a), 0);

  /* A priority that does not suit the policy. */
  struct sched_param p = {.sched_priority = 10};
  CHECK_RC(pthread_attr_init(&a), 0);
  CHECK_RC(pthread_attr_setschedparam(&a, &p), EINVAL); /* SCHED_OTHER takes 0 only */
  CHECK_RC(pthread_attr_setschedpolicy(&a, SCHED_RR), 0);
  p.sched_priority = 0;
  CHECK_RC(pthread_attr_setschedparam(&a, &p), EINVAL);
  CHECK_RC(pthread_attr_setschedpolicy(&a, 12345), EINVAL);
  CHECK_RC(pthread_attr_destroy(&a), 0);

  explicit_attr(&a, SCHED_FIFO, 10);
  if (!may_use_realtime()) {
    pthread_t t;
    CHECK_RC(pthread_create(&t, &a, report_own_params, &s), EPERM);
    printf("sched_attrs: not privileged: explicit SCHED_FIFO refused with EPERM\n");
    return 0;
  }
  s = run_with(&a);
  CHECK_MSG(s.policy == SCHED_FIFO && s.priority == 10,
            "an explicit SCHED_FIFO 10 child got policy %d priority %d", s.policy, s.priority);
  pthread_t t;
  CHECK_RC(pthread_create(&t, &a, fifo_parent, NULL), 0);
  CHECK_RC(pthread_join(t, NULL), 0);
  CHECK_RC(pthread_attr_destroy(&a), 0);

  /* A priority that suited the policy when it was set, and no longer does
   * after the policy changed: creation fails with EINVAL. */
  pthread_attr_t bad;
  explicit_attr(&bad, SCHED_RR, 5);
  CHECK_RC(pthread_attr_setschedpolicy(&bad, SCHED_OTHER), 0);
  CHECK_RC(pthread_create(&t, &bad, report_own_params, &s), EINVAL);
  CHECK_RC(pthread_attr_destroy(&bad), 0);
  printf("sched_attrs: explicit and inherited scheduling attributes applied\n");
  return 0;
}
