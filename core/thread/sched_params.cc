// Scheduling policies and priorities as Linux accepts them, kept per user
// thread and applied by the scheduler (core/sched/priority.cc). One kernel
// thread runs every user thread, and its own policy is never changed: a
// real-time kernel thread that spins would starve the machine, not just the
// process.
//
// Privilege is decided as sched_setscheduler(2) decides it for the target
// thread's current policy and priority: only a change that raises them needs
// RLIMIT_RTPRIO or CAP_SYS_NICE, so only that change costs system calls.
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "core/thread/thread.h"

namespace ptshim {

namespace {
bool has_cap_sys_nice() {
  constexpr uint32_t kCapabilityVersion3 = 0x20080522;  // _LINUX_CAPABILITY_VERSION_3
  constexpr int kCapSysNice = 23;
  struct {
    uint32_t version;
    int pid;
  } header = {kCapabilityVersion3, 0};
  struct {
    uint32_t effective, permitted, inheritable;
  } data[2] = {};
  if (arch::raw_syscall(SYS_capget, reinterpret_cast<long>(&header),
                        reinterpret_cast<long>(data)) != 0) {
    return false;
  }
  return (data[0].effective & (uint32_t{1} << kCapSysNice)) != 0;
}

bool is_real_time(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }
}  // namespace

bool sched_policy_is_valid(int policy) {
  return policy == SCHED_OTHER || policy == SCHED_FIFO || policy == SCHED_RR ||
         policy == SCHED_BATCH || policy == SCHED_IDLE;
}

bool sched_priority_is_valid(int policy, int priority) {
  if (is_real_time(policy)) return priority >= 1 && priority <= 99;
  return priority == 0;
}

int sched_params_check(const Thread* t, int policy, int priority) {
  if (!sched_policy_is_valid(policy) || !sched_priority_is_valid(policy, priority)) return EINVAL;
  if (!is_real_time(policy)) return 0;
  int now = is_real_time(t->sched_policy) ? t->sched_priority : 0;
  if (policy == t->sched_policy && priority <= now) return 0;  // no raise: no privilege
  // The kernel's rule: a new real-time policy needs a non-zero RLIMIT_RTPRIO,
  // a higher priority one at least as high, or else CAP_SYS_NICE.
  rlimit limit;
  if (arch::raw_syscall(SYS_prlimit64, 0, RLIMIT_RTPRIO, 0, reinterpret_cast<long>(&limit)) == 0) {
    bool new_policy_ok = policy == t->sched_policy || limit.rlim_cur != 0;
    bool priority_ok = priority <= now || limit.rlim_cur == RLIM_INFINITY ||
                       static_cast<rlim_t>(priority) <= limit.rlim_cur;
    if (new_policy_ok && priority_ok) return 0;
  }
  return has_cap_sys_nice() ? 0 : EPERM;
}

void thread_set_sched(Thread* t, int policy, int priority) {
  t->sched_policy = policy;
  t->sched_priority = priority;
  priority_set_base(t, policy, priority);
}

namespace {
// The kernel thread's policy and priority when last looked at: ptshim never
// changes them, so a difference is another process's doing (chrt -p, a
// parent's sched_setscheduler).
int g_kernel_policy = -1, g_kernel_priority;

bool read_kernel_sched(int* policy, int* priority) {
  long p = arch::raw_syscall(SYS_sched_getscheduler, 0);
  sched_param param{};
  if (p < 0 || arch::raw_syscall(SYS_sched_getparam, 0, reinterpret_cast<long>(&param)) != 0) {
    return false;
  }
  *policy = static_cast<int>(p & ~SCHED_RESET_ON_FORK);
  *priority = param.sched_priority;
  return true;
}
}  // namespace

void thread_adopt_kernel_sched(Thread* t) {
  if (!read_kernel_sched(&g_kernel_policy, &g_kernel_priority)) return;
  thread_set_sched(t, g_kernel_policy, g_kernel_priority);
}

void thread_follow_kernel_sched(Thread* t) {
  int policy, priority;
  if (!read_kernel_sched(&policy, &priority)) return;
  if (policy == g_kernel_policy && priority == g_kernel_priority) return;
  g_kernel_policy = policy;
  g_kernel_priority = priority;
  thread_set_sched(t, policy, priority);
}

}  // namespace ptshim
