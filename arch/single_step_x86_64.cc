// The trap flag and the hardware breakpoint (arch/single_step_x86_64.h).
#include "arch/single_step_x86_64.h"

#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>

#include <cstring>

#include "arch/syscall_x86_64_linux.h"

extern "C" void* ptshim_call_with_trap_flag(const void* fn, void* arg)
    __attribute__((visibility("hidden")));

namespace ptshim::arch {

namespace {
constexpr uint64_t kTrapFlag = 0x100;  // TF in rflags
// si_code of a perf event's synchronous SIGTRAP (Linux 5.13); glibc 2.36's
// headers predate it.
constexpr int kTrapPerf = 6;
// Where the kernel puts a TRAP_PERF's perf_event_attr::sig_data in the
// siginfo: _sigfault._perf._data, right after si_addr.
constexpr size_t kPerfDataOffset = 24;

greg_t& flags_of(void* ucontext) {
  return static_cast<ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_EFL];
}

perf_event_attr breakpoint_attr(uintptr_t pc, uint64_t period, uint64_t cookie) {
  perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.type = PERF_TYPE_BREAKPOINT;
  a.size = sizeof a;
  a.bp_type = HW_BREAKPOINT_X;
  a.bp_addr = pc;
  a.bp_len = sizeof(long);  // what the kernel wants for an execute breakpoint
  a.sample_period = period;
  a.disabled = 1;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  a.sigtrap = 1;         // a synchronous SIGTRAP to this thread, si_code TRAP_PERF
  a.remove_on_exec = 1;  // sigtrap requires it; and nothing survives execve
  a.sig_data = cookie;
  return a;
}

uint64_t g_cookie;
}  // namespace

bool trap_flag(const void* ucontext) {
  return (static_cast<const ucontext_t*>(ucontext)->uc_mcontext.gregs[REG_EFL] & kTrapFlag) != 0;
}

void set_trap_flag(void* ucontext, bool on) {
  if (on) {
    flags_of(ucontext) |= kTrapFlag;
  } else {
    flags_of(ucontext) &= ~static_cast<greg_t>(kTrapFlag);
  }
}

// pushfq writes below the stack pointer: the red zone (128 bytes) of a
// function these are inlined into is stepped over first, as raw_syscall does.
bool trap_flag_here() {
  uint64_t flags;
  asm volatile("sub $128, %%rsp\n\tpushfq\n\tpopq %0\n\tadd $128, %%rsp" : "=r"(flags) : : "cc");
  return (flags & kTrapFlag) != 0;
}

void clear_trap_flag_here() {
  asm volatile("sub $128, %%rsp\n\tpushfq\n\tandq $-257, (%%rsp)\n\tpopfq\n\tadd $128, %%rsp"
               :
               :
               : "cc", "memory");
}

void set_trap_flag_here() {
  asm volatile("sub $128, %%rsp\n\tpushfq\n\torq $256, (%%rsp)\n\tpopfq\n\tadd $128, %%rsp"
               :
               :
               : "cc", "memory");
}

void* call_with_trap_flag(const void* fn, void* arg) { return ptshim_call_with_trap_flag(fn, arg); }

bool is_single_step_trap(const void* siginfo) {
  return static_cast<const siginfo_t*>(siginfo)->si_code == TRAP_TRACE;
}

bool is_breakpoint_trap(const void* siginfo, uint64_t cookie) {
  const auto* info = static_cast<const siginfo_t*>(siginfo);
  if (info->si_code != kTrapPerf) return false;
  uint64_t data;
  memcpy(&data, reinterpret_cast<const char*>(info) + kPerfDataOffset, sizeof data);
  return data == cookie;
}

int return_slots(const void* ucontext, uintptr_t slots[2]) {
  const auto* uc = static_cast<const ucontext_t*>(ucontext);
  auto sp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RSP]);
  slots[0] = sp;
  constexpr uintptr_t kRelocationIndexLimit = uintptr_t{1} << 24;
  if (*reinterpret_cast<const uintptr_t*>(sp + 8) >= kRelocationIndexLimit) return 1;
  slots[1] = sp + 16;
  return 2;
}

bool breakpoint_open(Breakpoint* bp, uint64_t cookie) {
  g_cookie = cookie;
  // Any mapped address will do until it is armed.
  perf_event_attr a = breakpoint_attr(reinterpret_cast<uintptr_t>(&breakpoint_open), 1, cookie);
  long fd =
      raw_syscall(SYS_perf_event_open, reinterpret_cast<long>(&a), 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return false;
  bp->fd = static_cast<int>(fd);
  bp->period = 1;
  bp->armed = false;
  return true;
}

bool breakpoint_arm(Breakpoint* bp, uintptr_t pc, uint64_t count) {
  if (bp->armed) breakpoint_disarm(bp);
  // The period first, even an unchanged one: it also restarts the count
  // (a breakpoint disarmed early keeps what it had counted). And the
  // attributes given to MODIFY must match the event's in all but the address.
  if (raw_syscall(SYS_ioctl, bp->fd, PERF_EVENT_IOC_PERIOD, reinterpret_cast<long>(&count)) != 0)
    return false;
  bp->period = count;
  perf_event_attr a = breakpoint_attr(pc, count, g_cookie);
  if (raw_syscall(SYS_ioctl, bp->fd, PERF_EVENT_IOC_MODIFY_ATTRIBUTES,
                  reinterpret_cast<long>(&a)) != 0) {
    return false;
  }
  // (PERF_EVENT_IOC_REFRESH's one-shot enabling misbehaves with sigtrap
  // events: measured, a second trap or none. The trap's handler disarms.)
  if (raw_syscall(SYS_ioctl, bp->fd, PERF_EVENT_IOC_ENABLE, 0) != 0) return false;
  bp->armed = true;
  return true;
}

void breakpoint_disarm(Breakpoint* bp) {
  if (!bp->armed) return;
  raw_syscall(SYS_ioctl, bp->fd, PERF_EVENT_IOC_DISABLE, 0);
  bp->armed = false;
}

void breakpoint_forget(Breakpoint* bp) {
  if (bp->fd >= 0) raw_syscall(SYS_close, bp->fd);
  bp->fd = -1;
  bp->armed = false;
  bp->period = 1;
}

}  // namespace ptshim::arch
