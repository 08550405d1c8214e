// sched_setscheduler, sched_setparam, sched_getscheduler, sched_getparam.
// The process has one kernel thread, so pid 0 and the process's own pid (its
// one tid) name the calling user thread, whose policy and priority the
// scheduler applies; any other pid is another process, and the kernel's
// business. A change another process made to ours reaches the kernel thread
// only: the getters pass it on to the caller.
#include <errno.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/shim.h"

using namespace ptshim;

namespace {
bool names_caller(pid_t pid) {
  return pid == 0 || pid == static_cast<pid_t>(arch::raw_syscall(SYS_getpid));
}

int fail(int err) {
  errno = err;
  return -1;
}

int kernel_result(long r) { return r < 0 ? fail(static_cast<int>(-r)) : static_cast<int>(r); }

// 0 or -1 with errno, as the kernel answers for its own thread.
int set_caller(int policy, const sched_param* param) {
  if (param == nullptr) return fail(EINVAL);
  Thread* self = current();
  if (int err = sched_params_check(self, policy, param->sched_priority)) return fail(err);
  thread_set_sched(self, policy, param->sched_priority);
  return 0;
}
}  // namespace

PTSHIM_EXPORT int sched_setscheduler(pid_t pid, int policy, const sched_param* param) {
  if (pid < 0) return fail(EINVAL);
  if (!names_caller(pid)) {
    return kernel_result(
        arch::raw_syscall(SYS_sched_setscheduler, pid, policy, reinterpret_cast<long>(param)));
  }
  ShimEntry entry(__func__);
  // The flag only concerns fork children, which start with the policy the
  // kernel thread has.
  return set_caller(policy & ~SCHED_RESET_ON_FORK, param);
}

PTSHIM_EXPORT int sched_setparam(pid_t pid, const sched_param* param) {
  if (pid < 0) return fail(EINVAL);
  if (!names_caller(pid)) {
    return kernel_result(arch::raw_syscall(SYS_sched_setparam, pid, reinterpret_cast<long>(param)));
  }
  ShimEntry entry(__func__);
  return set_caller(current()->sched_policy, param);
}

PTSHIM_EXPORT int sched_getscheduler(pid_t pid) {
  if (pid < 0) return fail(EINVAL);
  if (!names_caller(pid)) return kernel_result(arch::raw_syscall(SYS_sched_getscheduler, pid));
  ShimEntry entry(__func__);
  thread_follow_kernel_sched(current());
  return current()->sched_policy;
}

PTSHIM_EXPORT int sched_getparam(pid_t pid, sched_param* param) {
  if (pid < 0 || param == nullptr) return fail(EINVAL);
  if (!names_caller(pid)) {
    return kernel_result(arch::raw_syscall(SYS_sched_getparam, pid, reinterpret_cast<long>(param)));
  }
  ShimEntry entry(__func__);
  Thread* self = current();
  thread_follow_kernel_sched(self);
  // glibc raises a priority-protect mutex's holder with sched_setscheduler,
  // so the kernel's answer includes the ceiling (pthread_getschedparam's
  // does not).
  int ceiling = mutex_protocol_highest_ceiling(self);
  param->sched_priority = ceiling > self->sched_priority ? ceiling : self->sched_priority;
  return 0;
}
