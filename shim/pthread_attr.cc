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

namespace {
// glibc's extension block as ptshim makes it (pthread_attr_setsigmask_np),
// tagged so that destroy frees only its own: glibc's internal code makes
// attributes with malloc'ed extensions that it frees itself.
struct OwnExtension {
  GlibcAttrExtension glibc;
  uint64_t tag;
};
constexpr uint64_t kOwnExtensionTag = 0x7074736869657874;  // "ptshiext"

OwnExtension* own_extension(pthread_attr_t* attr) {
  auto* e = static_cast<OwnExtension*>(const_cast<void*>(to_attr(attr)->glibc_extension));
  return e != nullptr && e->tag == kOwnExtensionTag ? e : nullptr;
}
}  // namespace

PTSHIM_EXPORT int pthread_attr_init(pthread_attr_t* attr) {
  memset(attr, 0, sizeof *attr);
  attr_set_defaults(to_attr(attr));
  return 0;
}

PTSHIM_EXPORT int pthread_attr_destroy(pthread_attr_t* attr) {
  if (OwnExtension* e = own_extension(attr)) {
    to_attr(attr)->glibc_extension = nullptr;
    internal_free(e, sizeof *e);
  }
  return 0;
}

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

// The signal mask a new thread starts with, in glibc's extension block
// (pthread_create applies it, core/thread). As glibc: a null mask forgets
// it; glibc's own signals (SIGCANCEL, SIGSETXID) are never part of it.
PTSHIM_EXPORT int pthread_attr_setsigmask_np(pthread_attr_t* attr, const sigset_t* mask) {
  OwnExtension* e = own_extension(attr);
  if (e == nullptr) {
    if (mask == nullptr) return 0;
    e = static_cast<OwnExtension*>(internal_alloc_zeroed(sizeof(OwnExtension)));
    e->tag = kOwnExtensionTag;
    to_attr(attr)->glibc_extension = e;
  }
  if (mask == nullptr) {
    e->glibc.sigmask_set = false;
    return 0;
  }
  memcpy(e->glibc.sigmask, mask, sizeof e->glibc.sigmask);
  e->glibc.sigmask[0] &= ~(signal_bit(32) | signal_bit(33));  // SIGCANCEL, SIGSETXID
  e->glibc.sigmask_set = true;
  return 0;
}

PTSHIM_EXPORT int pthread_attr_getsigmask_np(const pthread_attr_t* attr, sigset_t* mask) {
  const auto* e = static_cast<const GlibcAttrExtension*>(to_attr(attr)->glibc_extension);
  if (e == nullptr || !e->sigmask_set) {
    sigemptyset(mask);
    return PTHREAD_ATTR_NO_SIGMASK_NP;
  }
  memcpy(mask, e->sigmask, sizeof *mask);
  return 0;
}
