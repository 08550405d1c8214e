// Seeded slices: in a seeded run, a thread may be preempted at an exact,
// replayable instruction of its own code, without performance counters
// (docs/design.md, "Seeded slices").
//
// SEGMENTS. A run segment is a thread's run from its switch-in, or from a
// scheduling point at which it went on running, to its next scheduling point
// (any switch_to, any scheduling_point_slow, the end of a slice). At the
// start of every segment four values are drawn from the schedule's generator
// (random.cc), whatever they are used for, so the sequence of draws depends
// only on the sequence of segments, which is the schedule's. They say
// whether the segment gets a slice (most get none), and what it is:
//   - short: preempted before the n-th instruction of the program's code
//     (n in 1..32) after it returns to that code;
//   - long: s instructions (1..32) counted that way reach some pc P; it is
//     then preempted before the k-th execution of P from there (k from 2 to
//     about 4096, roughly log-uniform), which lands inside any loop the
//     thread was in, at full speed.
// Nothing else ever draws here; ticks in particular never start a segment.
//
// COUNTING. The thread runs with the trap flag set (arch/single_step): one
// SIGTRAP per instruction, about 6.5 us each. Only traps at safe code
// (pc_is_safe) count. The first traps after the segment starts may still be
// in ptshim (phase kEntering: the rest of the shim call's way out) and count
// nothing; counting starts at the first trap in safe code. A step that lands
// in unsafe code with a return address into safe code at the stack pointer
// (a call into libc, into ptshim, through a PLT stub) clears the flag and
// puts the hardware breakpoint at that return address: when the call
// returns there, with the stack pointer the call will leave, the flag is set
// again. A step into unsafe code that is no such call (a return into libc
// from a callback, a jump), a system call instruction about to run with the
// flag set (it would pass the flag to a clone or vfork child), or a trap
// inside the core forfeits the slice. Every such outcome depends only on the
// instructions the thread runs, so the same schedule makes the same
// decisions.
//
// FIRING. When the count runs out (or the breakpoint's k-th visit traps) at
// safe code outside the core, with no flockfile lock held and not on a
// signal stack (the tick's rules, preempt.cc), the thread is preempted from
// inside the SIGTRAP handler exactly as the tick preempts from inside
// SIGALRM's (preempt_from_handler; its context is the signal frame), asking
// the policy g_policy->switch_at(SchedPoint::kInstruction). Where the rules
// do not hold yet, stepping goes on and it fires at the first instruction
// where they do.
//
// BUDGET. Stepping costs what a trap costs, so a run gets a fixed budget of
// traps (breakpoint uses count kBreakpointCost each); a slice drawn once it
// is spent is not armed. The budget is spent by counted events only, so it
// runs out at the same point of the same schedule.
//
// INVARIANTS.
// - At most one slice exists: the running thread's (Slice::thread). Every
//   scheduling point ends it (step_segment_end): the breakpoint is disarmed.
// - The trap flag is never set in the live flags of ptshim's code where it
//   switches threads: it is set only in a signal frame's ucontext (a thread
//   that resumes in a handler), by the way out of the core after g_in_core
//   went to 0 (step_leave_core), or by arch::call_with_trap_flag at a new
//   thread's start; and any trap that finds g_in_core == 1 clears it. A frame
//   that kept the flag from an ended segment (a program handler's scheduling
//   point ended it) traps once when it returns, and that trap clears it.
// - SIGTRAP is ptshim's in a seeded run (signal_manage_trap): the kernel
//   never blocks it, and a trap that is not the trap flag's nor this
//   breakpoint's goes to the program's action, as core/diag does for faults.
//
// A debugger that single-steps or puts hardware breakpoints on the program
// competes for the same flag and debug registers: debug seeded runs with
// PTSHIM_SEED unset (docs/design.md).
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "core/signal/signal.h"
#include "core/thread/thread.h"

namespace ptshim {

bool g_step_on;

namespace {

enum class Phase : uint8_t {
  kNone,      // no slice in this segment (none drawn, spent, fired or forfeited)
  kEntering,  // the trap flag is (about to be) set: counting starts at safe code
  kCounting,  // the trap flag is set: each trap at safe code counts one instruction
  kCalled,    // the thread called unsafe code: the breakpoint waits at the return
  kVisiting,  // a long slice: the breakpoint waits for the k-th execution of P
};

// How a segment's counting starts.
enum class Entry : uint8_t { kCoreExit, kHandlerFrame, kThreadStart };

struct Slice {
  Phase phase;
  Entry entry;
  Thread* thread;
  uint32_t steps_left;  // safe instructions still to count
  uint32_t visits;      // long slice: executions of P once steps ran out; 0: short
  uint32_t entering;    // traps taken in kEntering
  uintptr_t return_sp;  // kCalled: the stack pointer once the call returned
  uint64_t segment;     // which segment it belongs to (step_holds_tick)
};

constexpr uint64_t kKinds = 64;       // of 64: kShortKinds short, kLongKinds long, the rest none
constexpr uint64_t kShortKinds = 16;  // 1 segment in 4
constexpr uint64_t kLongKinds = 8;    // 1 in 8
constexpr uint64_t kMaxSteps = 32;
constexpr uint64_t kScales = 12;  // long slices: k in [2, 2 + 2^(scale+1))
constexpr uint64_t kVisitBits = 4096;
constexpr uint32_t kEnteringLimit = 64;
// Traps per run: 6.5 to 11 us each here (the kernel's debug trap and
// signal delivery; the handler itself takes about 0.1 us), so a run steps
// for at most 1.5 to 2.6 ms.
constexpr int64_t kBudget = 240;
constexpr int64_t kBreakpointCost = 2;           // arming (three ioctls) and its trap
constexpr uint64_t kCookie = 0x70747368696dULL;  // "ptshim": this breakpoint's traps

Slice g_slice;
uint64_t g_segments;
int64_t g_budget = kBudget;
arch::Breakpoint g_bp;
bool g_bp_refused;         // the kernel would not open it: slices that need it are forfeited
uint64_t g_traps;          // traps taken in this run
uint64_t g_tick_segment;   // the segment a tick last let run on for its slice,
uint64_t g_tick_traps;     // and g_traps then
int g_ticks_without_trap;  // ticks since, in that segment, that saw no trap
constexpr int kTicksBeforeGivingUp = 8;

bool slice_of_running(const Slice& s) { return s.phase != Phase::kNone && s.thread == current(); }

bool arm_breakpoint(uintptr_t pc, uint64_t count) {
  if (g_bp_refused) return false;
  if (g_bp.fd < 0 && !arch::breakpoint_open(&g_bp, kCookie)) {
    g_bp_refused = true;
    return false;
  }
  g_budget -= kBreakpointCost;
  return arch::breakpoint_arm(&g_bp, pc, count);
}

void end_slice() {
  g_slice.phase = Phase::kNone;
  arch::breakpoint_disarm(&g_bp);
}

void forfeit(void* ucontext) {
  end_slice();
  arch::set_trap_flag(ucontext, false);
}

// The slice ran out at `ucontext`'s pc (safe code, not yet run): the
// thread is preempted there if the tick's rules allow it now; otherwise
// counting goes on, to fire at the first instruction where they do.
void fire(void* ucontext) {
  if (g_in_core || current()->file_locks_held != 0 || on_signal_stack()) {
    g_slice.phase = Phase::kCounting;
    g_slice.steps_left = 0;
    g_slice.visits = 0;
    arch::breakpoint_disarm(&g_bp);
    arch::set_trap_flag(ucontext, true);
    return;
  }
  forfeit(ucontext);  // spent: the thread resumes here without it
  preempt_from_handler(ucontext, [](void*) {
    if (g_policy->any_runnable() && g_policy->switch_at(SchedPoint::kInstruction)) {
      preempt_switch(SchedPoint::kInstruction);  // its switch_to ends this segment
    } else {
      step_segment_begin_slow(current());  // a scheduling point it runs on from
    }
  });
  // Its sigreturn restores the interrupted mask: what the kernel has from
  // then on, whatever a switch in between installed.
  signal_mask_note_kernel(arch::interrupted_signal_mask(ucontext));
}

void on_step(void* ucontext) {
  Slice& s = g_slice;
  if (s.phase != Phase::kEntering && s.phase != Phase::kCounting) {
    arch::set_trap_flag(ucontext, false);  // a frame's flag from an ended segment
    return;
  }
  if (g_in_core || s.thread != current()) {
    forfeit(ucontext);
    return;
  }
  --g_budget;
  uintptr_t pc = arch::interrupted_pc(ucontext);
  long number, args[4];
  if (arch::interrupted_syscall(ucontext, &number, args)) {
    forfeit(ucontext);  // never into the kernel with the flag: a clone child would get it
    return;
  }
  bool safe = pc_is_safe(pc);
  if (s.phase == Phase::kEntering) {
    if (safe) {
      s.phase = Phase::kCounting;  // the instruction at pc is the slice's first
    } else if (++s.entering > kEnteringLimit || g_budget <= 0) {
      forfeit(ucontext);
    }
    return;
  }
  if (!safe) {
    uintptr_t slots[2];
    int n = arch::return_slots(ucontext, slots);
    for (int i = 0; i < n; ++i) {
      uintptr_t ret = *reinterpret_cast<const uintptr_t*>(slots[i]);
      if (!pc_in_safe_object(ret)) continue;
      if (!arm_breakpoint(ret, 1)) break;
      s.phase = Phase::kCalled;
      s.return_sp = slots[i] + sizeof(uintptr_t);
      arch::set_trap_flag(ucontext, false);
      return;
    }
    forfeit(ucontext);
    return;
  }
  if (s.steps_left > 1) {
    --s.steps_left;
    if (g_budget <= 0) forfeit(ucontext);
    return;
  }
  if (s.visits != 0) {
    if (arm_breakpoint(pc, s.visits)) {
      s.phase = Phase::kVisiting;
      arch::set_trap_flag(ucontext, false);
    } else {
      forfeit(ucontext);
    }
    return;
  }
  fire(ucontext);
}

void on_breakpoint(void* ucontext) {
  Slice& s = g_slice;
  arch::breakpoint_disarm(&g_bp);
  if (!slice_of_running(s) || g_in_core) {
    if (s.phase != Phase::kNone) forfeit(ucontext);
    return;
  }
  if (s.phase == Phase::kCalled) {
    if (arch::interrupted_sp(ucontext) != s.return_sp) {
      // The same return address in a deeper call (recursion through a
      // callback): wait on for this call's return.
      if (!arm_breakpoint(arch::interrupted_pc(ucontext), 1) || g_budget <= 0) forfeit(ucontext);
      return;
    }
    s.phase = Phase::kCounting;
    arch::set_trap_flag(ucontext, true);
    return;
  }
  if (s.phase == Phase::kVisiting) fire(ucontext);
}

void on_trap(int sig, siginfo_t* info, void* ucontext) {
  int saved_errno = errno;
  ++g_traps;
  if (arch::is_single_step_trap(info) && g_step_on) {
    on_step(ucontext);
  } else if (g_bp.fd >= 0 && arch::is_breakpoint_trap(info, kCookie)) {
    on_breakpoint(ucontext);
  } else if (program_has_handler(sig)) {
    program_handler_call(sig, info, ucontext);  // the program's own trap (int3, raise, ...)
  } else if (!program_ignores(sig) || info->si_code > 0) {
    // The default action; or ignored, but made by an instruction, whose
    // trap the kernel would not have let the program ignore.
    raise_with_default_action(sig);
  }
  errno = saved_errno;
}

}  // namespace

void step_install() {
  program_actions_record_inherited(SIGTRAP);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_trap;
  // On the thread's own stack (it may switch, as the tick does); SIGTRAP
  // never blocked, not even in here.
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  if (__sigaction(SIGTRAP, &sa, nullptr) != 0) fatal("ptshim: cannot install the SIGTRAP handler");
  g_step_on = true;
}

void step_segment_end_slow() {
  if (g_slice.phase != Phase::kNone) end_slice();
  if (g_deferred.step) g_deferred.step = 0;
  // The invariant above, made sure of where threads switch.
  if (__builtin_expect(arch::trap_flag_here(), 0)) arch::clear_trap_flag_here();
}

void step_segment_begin_slow(Thread* t) {
  ++g_segments;
  // One draw, its bits shared out (the counts are powers of two, the scale's
  // remainder is biased by less than 2^-37): a segment start costs one step
  // of the generator whatever comes of it.
  uint64_t bits = sched_random();
  uint64_t kind = bits % kKinds;
  uint64_t steps = (bits / kKinds) % kMaxSteps;
  uint64_t visits = (bits / (kKinds * kMaxSteps)) % kVisitBits;
  uint64_t scale = (bits / (kKinds * kMaxSteps * kVisitBits)) % kScales;
  g_slice = Slice{};
  // A slice is worth its cost only where another thread could take over.
  if (kind >= kShortKinds + kLongKinds || g_budget <= 0 || active_thread_count() < 2) return;
  Slice& s = g_slice;
  s.phase = Phase::kEntering;
  s.thread = t;
  s.segment = g_segments;
  if (kind < kShortKinds) {
    s.steps_left = static_cast<uint32_t>(1 + steps);
  } else {
    s.steps_left = static_cast<uint32_t>(1 + steps);
    s.visits = static_cast<uint32_t>(2 + (visits & ((uint64_t{2} << scale) - 1)));
  }
  if (t->handler_frame != nullptr) {
    // It resumes by sigreturn at the pc a preemption interrupted, safe code
    // (preempt.cc's rule 2): counting starts there.
    s.entry = Entry::kHandlerFrame;
    s.phase = Phase::kCounting;
    arch::set_trap_flag(t->handler_frame, true);
  } else {
    s.entry = Entry::kCoreExit;
    g_deferred.step = 1;  // the flag is set as it leaves the core
  }
}

void step_segment_switch_slow(Thread* next) {
  step_segment_end_slow();
  step_segment_begin_slow(next);
}

void step_thread_starts() {
  if (!g_step_on || g_slice.phase != Phase::kEntering || g_slice.thread != current()) return;
  // Its way out of the core is thread_entry's, through libc (TLS set-up):
  // counting starts at the routine instead, which thread_entry calls with
  // the flag set.
  g_slice.entry = Entry::kThreadStart;
  g_deferred.step = 0;
}

void step_leave_core() {
  g_deferred.step = 0;
  if (g_slice.phase == Phase::kEntering && g_slice.entry == Entry::kCoreExit &&
      g_slice.thread == current() && g_in_core == 0) {
    arch::set_trap_flag_here();
  }
}

bool step_at_thread_start() {
  return g_slice.phase == Phase::kEntering && g_slice.entry == Entry::kThreadStart &&
         g_slice.thread == current();
}

bool step_slice_armed() { return slice_of_running(g_slice); }

bool step_holds_tick(void* ucontext, bool* gave_up) {
  if (!slice_of_running(g_slice)) return false;
  if (g_tick_segment != g_slice.segment || g_tick_traps != g_traps) {
    g_tick_segment = g_slice.segment;
    g_tick_traps = g_traps;
    g_ticks_without_trap = 0;
    return true;
  }
  // No trap for kTicksBeforeGivingUp slices of CPU time (a breakpoint at a
  // pc not run again, a call that does not return): the tick takes over,
  // uncontrolled. Not at the first such tick: one slow system call (the
  // first perf_event_open of a process can take 10-20 ms of the kernel's
  // time) is no reason to lose a replay; a thread that just runs on, its
  // breakpoint never hit, reaches its next scheduling point as if it had no
  // slice.
  if (++g_ticks_without_trap < kTicksBeforeGivingUp) return true;
  g_ticks_without_trap = 0;
  forfeit(ucontext);
  *gave_up = true;
  return false;
}

void step_after_fork_in_child() {
  arch::breakpoint_forget(&g_bp);
  g_slice = Slice{};
  g_deferred.step = 0;
}

}  // namespace ptshim
