// core/signal: per-thread signal masks over one kernel mask, the program's
// actions for the signals ptshim handles itself, the per-signal facts, and
// signals directed at one user thread.
//
// Invariants (docs/design.md, "Signals"):
// - The kernel's mask is the running thread's minus the signals ptshim must
//   always receive (SIGALRM and the synchronous faults); it is rewritten only
//   when a switch changes it.
// - For a signal ptshim handles (signal_is_managed), the kernel's action is
//   ptshim's handler and stays so; the program's sigaction is recorded here
//   and the handler chains to it.
// - A signal sent to one user thread is pending in that thread
//   (Thread::pending_signals) and raised at this kernel thread when that
//   thread runs outside the core with the signal unblocked.
#pragma once

#include <signal.h>

#include "core/sched/sched.h"

namespace ptshim {

inline constexpr uint64_t signal_bit(int sig) { return uint64_t{1} << (sig - 1); }

// ---- per-signal facts (table.cc) ------------------------------------------------------
enum class SignalDefault : uint8_t { kTerminate, kCore, kIgnore, kStop, kContinue };
enum SignalRole : uint8_t {
  kRoleNone = 0,
  kRoleReported = 1,     // ptshim reports it (crash, stack overflow, abort) before dying by it
  kRoleSynchronous = 2,  // a fault of the instruction: the kernel delivers it even if blocked
  kRolePreempt = 4,      // SIGALRM: ptshim's timer ticks share it with the program
};
struct SignalFacts {
  const char* name;  // "SIGSEGV"; "signal" for one without a name here
  SignalDefault default_action;
  uint8_t roles;  // SignalRole bits
};
const SignalFacts& signal_facts(int sig);
const char* signal_name(int sig);
// The signals ptshim keeps its own handler for: the faults, SIGALRM, the
// dump signal.
bool signal_is_managed(int sig);
// The kernel delivers these even while the running thread blocks them.
uint64_t signals_always_delivered();

// ---- the program's actions (action.cc) ---------------------------------------------------
// sigaction for a managed signal: the program's action is recorded (and
// reported back) while ptshim's handler stays installed.
void program_action_get(int sig, struct sigaction* old);
void program_action_set(int sig, const struct sigaction* act);
void program_actions_record_inherited(int sig);  // at start-up: SIG_IGN survives exec
bool program_has_handler(int sig);
bool program_ignores(int sig);
// Calls the program's handler as the kernel would (SA_SIGINFO, SA_RESETHAND).
void program_handler_call(int sig, siginfo_t* info, void* ucontext);
// A SIGALRM that is not one of ptshim's ticks (alarm(), setitimer, kill): held
// if the running thread blocks it, else what the program asked for.
void signal_forward_program_alarm(int sig, siginfo_t* info, void* ucontext);

// ---- masks (mask.cc) -------------------------------------------------------------------
void signal_mask_adopt_first_thread(Thread* t);
// Makes the kernel's mask `t`'s (a system call only if it differs).
void signal_mask_install(Thread* t);
// Something other than signal_mask_install changed the kernel's mask.
void signal_mask_note_kernel(uint64_t mask);
uint64_t signal_mask_kernel();
// pthread_sigmask's work for `t`: 0, or EINVAL for a bad `how`.
int signal_mask_change(Thread* t, int how, const sigset_t* set, sigset_t* old);
bool signal_is_blocked(const Thread* t, int sig);
// Of `pending`, the signals that may be raised for `t` now: not those it
// blocks that the kernel would deliver anyway (SIGALRM, the faults).
uint64_t signal_deliverable(const Thread* t, uint64_t pending);
// A program SIGALRM that arrived while the running thread blocked it.
void signal_hold_program_alarm();
bool signal_take_held_alarm();
bool signal_alarm_held_for(uint64_t mask);               // one is held and `mask` lets it through
uint64_t signal_mask_from_set(const sigset_t* set);      // bits 1-64, minus the unblockable
uint64_t signal_mask_kernel_form(uint64_t thread_mask);  // what the kernel gets for it
// Sets `t`'s mask without touching the kernel's (sigsuspend's atomic wait);
// returns the previous one.
uint64_t signal_mask_swap(Thread* t, uint64_t mask);

// ---- thread-directed signals (deliver.cc) ------------------------------------------------
// pthread_kill: pending in `t`, raised when it next runs outside the core.
void signal_request(Thread* t, int sig);
void deliver_pending_signals();  // the running thread's (a safe point)

}  // namespace ptshim
