// Thread attributes: detach state, stack size, user stack, guard size and
// the scheduling fields, which pthread_create applies (core/thread). Kept in
// glibc's layout, with glibc's meanings (the stack by its top address, flag
// bits), since glibc's own code fills in attributes too (core/thread/thread.h).
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>

#include "shim/shim.h"

using namespace ptshim;

PTSHIM_EXPORT int pthread_attr_init(pthread_attr_t* attr) {
  memset(attr, 0, sizeof *attr);
  attr_set_defaults(to_attr(attr));
  return 0;
}

PTSHIM_EXPORT int pthread_attr_destroy(pthread_attr_t*) { return 0; }

PTSHIM_EXPORT int pthread_attr_setdetachstate(pthread_attr_t* attr, int state) {
  if (state != PTHREAD_CREATE_JOINABLE && state != PTHREAD_CREATE_DETACHED) return EINVAL;
  to_attr(attr)->set(ThreadAttr::kDetached, state == PTHREAD_CREATE_DETACHED);
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getdetachstate(const pthread_attr_t* attr, int* state) {
  *state =
      to_attr(attr)->has(ThreadAttr::kDetached) ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  if (size < static_cast<size_t>(PTHREAD_STACK_MIN)) return EINVAL;
  to_attr(attr)->stack_size = size;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getstacksize(const pthread_attr_t* attr, size_t* size) {
  const ThreadAttr* a = to_attr(attr);
  *size = a->stack_size != 0 ? a->stack_size : options().default_stack_size;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_setstack(pthread_attr_t* attr, void* stack_lo, size_t size) {
  if (size < static_cast<size_t>(PTHREAD_STACK_MIN)) return EINVAL;
  ThreadAttr* a = to_attr(attr);
  a->stack_top = static_cast<char*>(stack_lo) + size;
  a->stack_size = size;
  a->set(ThreadAttr::kUserStack, true);
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getstack(const pthread_attr_t* attr, void** stack_lo, size_t* size) {
  const ThreadAttr* a = to_attr(attr);
  *stack_lo = static_cast<char*>(a->stack_top) - a->stack_size;
  *size = a->stack_size;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_setguardsize(pthread_attr_t* attr, size_t size) {
  to_attr(attr)->guard_size = size;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getguardsize(const pthread_attr_t* attr, size_t* size) {
  *size = to_attr(attr)->guard_size;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_setschedpolicy(pthread_attr_t* attr, int policy) {
  if (!sched_policy_is_valid(policy)) return EINVAL;
  to_attr(attr)->sched_policy = policy;
  to_attr(attr)->set(ThreadAttr::kPolicySet, true);
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getschedpolicy(const pthread_attr_t* attr, int* policy) {
  *policy = to_attr(attr)->sched_policy;
  return 0;
}

// As glibc: the priority must suit the policy already set.
PTSHIM_EXPORT int pthread_attr_setschedparam(pthread_attr_t* attr, const sched_param* param) {
  if (!sched_priority_is_valid(to_attr(attr)->sched_policy, param->sched_priority)) return EINVAL;
  to_attr(attr)->sched_priority = param->sched_priority;
  to_attr(attr)->set(ThreadAttr::kSchedParamSet, true);
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getschedparam(const pthread_attr_t* attr, sched_param* param) {
  param->sched_priority = to_attr(attr)->sched_priority;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_setinheritsched(pthread_attr_t* attr, int inherit) {
  if (inherit != PTHREAD_INHERIT_SCHED && inherit != PTHREAD_EXPLICIT_SCHED) return EINVAL;
  to_attr(attr)->set(ThreadAttr::kExplicitSched, inherit == PTHREAD_EXPLICIT_SCHED);
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getinheritsched(const pthread_attr_t* attr, int* inherit) {
  *inherit = to_attr(attr)->has(ThreadAttr::kExplicitSched) ? PTHREAD_EXPLICIT_SCHED
                                                            : PTHREAD_INHERIT_SCHED;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_setscope(pthread_attr_t* attr, int scope) {
  if (scope == PTHREAD_SCOPE_PROCESS) return ENOTSUP;  // as glibc
  if (scope != PTHREAD_SCOPE_SYSTEM) return EINVAL;
  to_attr(attr)->set(ThreadAttr::kScopeProcess, false);
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getscope(const pthread_attr_t* attr, int* scope) {
  *scope =
      to_attr(attr)->has(ThreadAttr::kScopeProcess) ? PTHREAD_SCOPE_PROCESS : PTHREAD_SCOPE_SYSTEM;
  return 0;
}

// The old interface names the stack by its highest address (stacks grow
// down), which is what the attribute keeps; its size is the stack size set
// (or the default).
PTSHIM_EXPORT int pthread_attr_setstackaddr(pthread_attr_t* attr, void* top) {
  to_attr(attr)->stack_top = top;
  to_attr(attr)->set(ThreadAttr::kUserStack, true);
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getstackaddr(const pthread_attr_t* attr, void** top) {
  *top = to_attr(attr)->stack_top;
  return 0;
}

// Affinity in an attribute: accepted (one kernel thread runs on whatever CPU
// it runs on); reading it gives the kernel thread's.
PTSHIM_EXPORT int pthread_attr_setaffinity_np(pthread_attr_t*, size_t size, const cpu_set_t* set) {
  if (size != 0 && CPU_COUNT_S(size, set) == 0) return EINVAL;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getaffinity_np(const pthread_attr_t*, size_t size, cpu_set_t* set) {
  long n = arch::raw_syscall(SYS_sched_getaffinity, 0, static_cast<long>(size),
                             reinterpret_cast<long>(set));
  return n < 0 ? static_cast<int>(-n) : 0;
}

// A signal mask for new threads in the attribute is not supported (they start
// with their creator's mask, as without the attribute): refused rather than
// accepted and ignored.
PTSHIM_EXPORT int pthread_attr_setsigmask_np(pthread_attr_t*, const sigset_t*) { return ENOTSUP; }

PTSHIM_EXPORT int pthread_attr_getsigmask_np(const pthread_attr_t*, sigset_t*) {
  return PTHREAD_ATTR_NO_SIGMASK_NP;
}
