// Scheduling policies and priorities as Linux accepts them. One kernel
// thread runs every user thread, so they are kept per user thread (the
// getters return what was set); the scheduling policy does not use them yet.
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
}  // namespace

bool sched_policy_is_valid(int policy) {
  return policy == SCHED_OTHER || policy == SCHED_FIFO || policy == SCHED_RR ||
         policy == SCHED_BATCH || policy == SCHED_IDLE;
}

bool sched_priority_is_valid(int policy, int priority) {
  if (policy == SCHED_FIFO || policy == SCHED_RR) return priority >= 1 && priority <= 99;
  return priority == 0;
}

int sched_params_check(int policy, int priority) {
  if (!sched_policy_is_valid(policy) || !sched_priority_is_valid(policy, priority)) return EINVAL;
  if (policy != SCHED_FIFO && policy != SCHED_RR) return 0;
  // sched_setscheduler(2): a real-time priority needs CAP_SYS_NICE or a
  // RLIMIT_RTPRIO at least as high.
  if (has_cap_sys_nice()) return 0;
  rlimit limit;
  if (getrlimit(RLIMIT_RTPRIO, &limit) == 0 &&
      (limit.rlim_cur == RLIM_INFINITY || static_cast<rlim_t>(priority) <= limit.rlim_cur)) {
    return 0;
  }
  return EPERM;
}

}  // namespace ptshim
