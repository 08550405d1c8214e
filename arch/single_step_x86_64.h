// Counting a thread's instructions without performance counters (core/sched/
// step.cc): the trap flag, which makes the CPU raise a debug trap (SIGTRAP,
// TRAP_TRACE) after every instruction, and one hardware instruction
// breakpoint, a perf_event of type PERF_TYPE_BREAKPOINT that raises SIGTRAP
// (TRAP_PERF) just before the n-th execution of one address by this kernel
// thread.
//
// The kernel clears the trap flag when it enters a signal handler and
// sigreturn restores the interrupted one, so the flag is read and written in
// the ucontext a handler gets, never in the handler's own flags. The
// breakpoint's SIGTRAP is synchronous (delivered before the instruction
// runs, the pc at the address); the event is removed at execve and its fd
// closed there (remove_on_exec, PERF_FLAG_FD_CLOEXEC), and a fork child
// inherits only the fd, which still names the parent's event.
#pragma once

#include <cstdint>

namespace ptshim::arch {

// ---- the trap flag ------------------------------------------------------------------
// Whether returning from the handler resumes with the flag set.
bool trap_flag(const void* ucontext);
void set_trap_flag(void* ucontext, bool on);
// The flag in the running code's own flags: set only by a bug (or by the
// program), cleared here so it cannot survive into a thread switch.
bool trap_flag_here();
void clear_trap_flag_here();
// Sets it in the running code's flags: the first trap comes after this
// function's return.
void set_trap_flag_here();
// Calls the function at `fn` with the one-word argument `arg` and the trap
// flag set: the first trap comes with the pc at its first instruction. For
// a thread's start routine, whatever its C type: the result is the word the
// function left in the result register.
void* call_with_trap_flag(const void* fn, void* arg);

// ---- what a SIGTRAP was ---------------------------------------------------------------
bool is_single_step_trap(const void* siginfo);  // TRAP_TRACE: the trap flag's
// TRAP_PERF from the breakpoint opened with this cookie (breakpoint_open).
bool is_breakpoint_trap(const void* siginfo, uint64_t cookie);
// The stack slots that may hold the return address of the code the
// interrupted instruction begins, if it was just called: the one at the
// stack pointer; and, for a first call through a lazily bound PLT stub, now
// at the dynamic linker's resolver, the one above the two words the stub
// pushed (the link map and a relocation index, which is small). Returns how
// many were stored in `slots`.
int return_slots(const void* ucontext, uintptr_t slots[2]);

// ---- the breakpoint -----------------------------------------------------------------------
struct Breakpoint {
  int fd = -1;          // -1: not open
  uint64_t period = 1;  // the event's sample period now
  bool armed = false;
};
// Opens it disarmed, for this kernel thread, user mode only. False when the
// kernel refuses (no hardware breakpoints: a VM without debug registers).
bool breakpoint_open(Breakpoint* bp, uint64_t cookie);
// Arms it to trap just before the count-th execution of pc from now (and
// every count-th after, until disarmed).
bool breakpoint_arm(Breakpoint* bp, uintptr_t pc, uint64_t count);
void breakpoint_disarm(Breakpoint* bp);
// After fork, in the child: the fd names the parent's event; closes it.
void breakpoint_forget(Breakpoint* bp);

}  // namespace ptshim::arch
