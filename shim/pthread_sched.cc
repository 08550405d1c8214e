// Scheduling policy and priority per user thread, applied by the scheduler
// (core/thread/sched_params.cc, core/sched/priority.cc); affinity and
// concurrency, kept per user thread: the getters return what was set.
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
int g_concurrency;
}  // namespace

PTSHIM_EXPORT int pthread_setschedparam(pthread_t thread, int policy, const sched_param* param) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t)) return ESRCH;
  if (int err = sched_params_check(t, policy, param->sched_priority)) return err;
  thread_set_sched(t, policy, param->sched_priority);
  mutex_waiter_priority_changed(t);
  return 0;
}

PTSHIM_EXPORT int pthread_getschedparam(pthread_t thread, int* policy, sched_param* param) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t)) return ESRCH;
  *policy = t->sched_policy;
  param->sched_priority = t->sched_priority;
  return 0;
}

PTSHIM_EXPORT int pthread_setschedprio(pthread_t thread, int priority) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t)) return ESRCH;
  if (int err = sched_params_check(t, t->sched_policy, priority)) return err;
  thread_set_sched(t, t->sched_policy, priority);
  mutex_waiter_priority_changed(t);
  return 0;
}

PTSHIM_EXPORT int pthread_setaffinity_np(pthread_t thread, size_t size, const cpu_set_t* set) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t)) return ESRCH;
  if (size == 0 || CPU_COUNT_S(size, set) == 0) return EINVAL;
  if (t->affinity == nullptr) {
    t->affinity = static_cast<cpu_set_t*>(internal_alloc_zeroed(sizeof(cpu_set_t)));
  }
  CPU_ZERO(t->affinity);
  for (size_t cpu = 0; cpu < CPU_SETSIZE && cpu < size * 8; ++cpu) {
    if (CPU_ISSET_S(cpu, size, set)) CPU_SET(cpu, t->affinity);
  }
  return 0;
}

PTSHIM_EXPORT int pthread_getaffinity_np(pthread_t thread, size_t size, cpu_set_t* set) {
  ShimEntry entry(__func__);
  Thread* t = to_thread(thread);
  if (!thread_is_valid(t)) return ESRCH;
  if (t->affinity == nullptr) {
    // Never set: the kernel thread's own.
    long n = arch::raw_syscall(SYS_sched_getaffinity, 0, static_cast<long>(size),
                               reinterpret_cast<long>(set));
    return n < 0 ? static_cast<int>(-n) : 0;
  }
  CPU_ZERO_S(size, set);
  for (size_t cpu = 0; cpu < CPU_SETSIZE && cpu < size * 8; ++cpu) {
    if (CPU_ISSET(cpu, t->affinity)) CPU_SET_S(cpu, size, set);
  }
  return 0;
}

PTSHIM_EXPORT int pthread_setconcurrency(int level) {
  if (level < 0) return EINVAL;
  g_concurrency = level;
  return 0;
}

PTSHIM_EXPORT int pthread_getconcurrency() { return g_concurrency; }
