// core/signal: per-thread signal masks over one kernel mask, the program's
// actions, the per-signal facts, and the delivery of signals to user
// threads: directed at one (pthread_kill, raise) or at the process (kill,
// timers, the terminal), to a thread that runs or to one blocked in ptshim.
//
// Invariants (docs/design.md, "Signals"):
// - The kernel's mask is the set of signals that every live thread blocks
//   (g_blocked_by_all), minus the signals ptshim must always receive
//   (SIGALRM and the synchronous faults). It does not depend on which thread
//   runs, so a switch between threads needs no system call for it (one
//   writes it back only when something else left it different: a handler
//   frame's mask, the ucontext switch's restored one); the set changes only
//   when a mask change, a thread's start or its exit changes it.
// - So a signal that some thread accepts is delivered by the kernel at once,
//   whichever thread runs. For a signal the program handles, the kernel's
//   action is ptshim's catcher (route.cc), which picks the thread the kernel
//   would (the one it was directed at; for the process, the main thread if
//   it accepts it, else the running one, else any that accepts it, a thread
//   in sigwait for it included) and runs the program's handler on that
//   thread's stack: at once if it is the running thread outside the core;
//   otherwise when that thread next runs outside the core (a safe point),
//   waking it if it is blocked in ptshim (WakeReason::kSignaled), where the
//   handler runs inside the wait before the call resumes or fails with EINTR.
// - A signal that arrives while the core is busy touches no core state: it
//   is put in an inbox (one slot per signal, plain stores) and routed at the
//   next safe point or by the scheduler loop (g_deferred.arrived).
// - A signal for one thread that the thread blocks is held by ptshim
//   (Thread::pending_signals) until the thread unblocks it or takes it with
//   sigwait; one for the process that no thread accepts is held by ptshim
//   too if the kernel could not keep it pending (SIGALRM), else by the kernel.
// - A held signal is raised at this kernel thread only while its thread runs
//   outside the core, marked with the thread it is for, so the handler runs
//   on that thread's stack with the kernel's own signal frame (masks,
//   SA_ONSTACK, SA_SIGINFO); a marked signal that reaches another thread
//   goes back to its own.
// - For a signal ptshim handles itself (signal_is_managed), the kernel's
//   action is ptshim's handler and stays so; the program's sigaction is
//   recorded here and the handler chains to it.
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
// dump signal; and SIGTRAP in a seeded run (signal_manage_trap).
bool signal_is_managed(int sig);
// Of those, the ones a program handler takes like any other signal (routed
// to a thread, masks, pending, waking a waiter): all but the faults, whose
// handler runs where the fault is. SIGALRM, SIGABRT, the dump signal.
bool signal_is_routed_when_handled(int sig);
// The kernel delivers these even while the running thread blocks them.
uint64_t signals_always_delivered();
// A seeded run: SIGTRAP is managed too, a trap of the instruction like the
// faults, its handler ptshim's (core/sched/step.cc), chained to the program's.
void signal_manage_trap();

// ---- the program's actions (action.cc) ---------------------------------------------------
// sigaction for a managed signal: the program's action is recorded (and
// reported back) while ptshim's handler stays installed.
void program_action_get(int sig, struct sigaction* old);
void program_action_set(int sig, const struct sigaction* act);
void program_actions_record_inherited(int sig);  // at start-up: SIG_IGN survives exec
bool program_has_handler(int sig);
bool program_ignores(int sig);
// Calls the program's handler as the kernel would (SA_SIGINFO, SA_RESETHAND),
// from any of ptshim's handlers, and counts it for the thread (route.cc).
void program_handler_call(int sig, siginfo_t* info, void* ucontext);
// sigaction for any other signal: the program's action is recorded, and the
// kernel gets ptshim's catcher for a handler, the action itself otherwise.
// 0 or -1 with errno, as sigaction.
int program_action_exchange(int sig, const struct sigaction* act, struct sigaction* old);
// siginterrupt: SA_RESTART off (flag != 0) or on for the program's handler.
int program_action_interrupt(int sig, int flag);
// What happens to `sig` when a thread takes it now.
enum class Disposition : uint8_t {
  kCaught,   // the program's handler, run by ptshim (the catcher, or SIGALRM's chain)
  kDirect,   // a handler the kernel calls itself (installed behind ptshim's back,
             // or a managed signal's: ptshim's own handler chains)
  kIgnored,  // SIG_IGN, or a default action that ignores it
  kDefault,  // a default action that ends or stops the process
};
Disposition signal_disposition(int sig);
bool signal_handler_restarts(int sig);    // the program's handler has SA_RESTART
uint64_t signals_caught();                // the signals whose kernel action is the catcher
uint64_t signal_catcher_blocks(int sig);  // what the kernel blocks while the catcher runs
// Makes the kernel deliver `sig`, which the program leaves at SIG_DFL and
// whose default action ignores it, to ptshim's catcher (which then ignores
// it) for as long as the program does not set an action of its own; true if
// the catcher is now the kernel's action.
bool signal_stand_in_for_default(int sig);
void signal_stand_down(int sig);  // the kernel gets the program's SIG_DFL back
// The kernel's handler for every signal the program handles (route.cc).
void signal_catch(int sig, siginfo_t* info, void* ucontext);

// ---- masks (mask.cc) -------------------------------------------------------------------
void signal_mask_adopt_first_thread(Thread* t);
// A new thread inherits its creator's mask and counts in the mask the
// kernel gets; an exiting one no longer does.
void signal_thread_start(Thread* t, const Thread* creator);
void signal_thread_exit(Thread* t);
// After fork, in the child: only `survivor` is left, with nothing pending.
void signal_after_fork_in_child(Thread* survivor);
// After a switch to `t`: makes the kernel's mask what it should be, plus
// `also_blocked` (a system call only if it is not, which a switch alone
// never causes).
void signal_mask_install(Thread* t, uint64_t also_blocked = 0);
// Something other than signal_mask_install changed the kernel's mask.
void signal_mask_note_kernel(uint64_t mask);
uint64_t signal_mask_kernel();
// pthread_sigmask's work for `t`: 0, or EINVAL for a bad `how`.
int signal_mask_change(Thread* t, int how, const sigset_t* set, sigset_t* old);
bool signal_is_blocked(const Thread* t, int sig);
// Of `pending`, the signals `t` may take now (those it does not block).
uint64_t signal_deliverable(const Thread* t, uint64_t pending);
uint64_t signal_mask_from_set(const sigset_t* set);      // bits 1-64, minus the unblockable
uint64_t signal_mask_kernel_form(uint64_t thread_mask);  // what the kernel gets for it
// Sets `t`'s mask (sigsuspend's wait); returns the previous one.
uint64_t signal_mask_swap(Thread* t, uint64_t mask);
uint64_t signal_blocked_by_all();  // by every live thread
// The idle path's sleep (core/sched): blocks the program's signals while the
// scheduler makes its last checks; returns the mask the sleeping call should
// let them in with, which signal_idle_end restores.
uint64_t signal_idle_begin();
void signal_idle_end(uint64_t mask);

// ---- arrival and routing (route.cc) -------------------------------------------------------
// A managed signal the program handles that reached ptshim's own handler (a
// SIGALRM that is not one of ptshim's ticks, a SIGABRT or dump signal sent
// by kill): delivered like any other program signal
// (signal_is_routed_when_handled).
void signal_forward_program_signal(int sig, siginfo_t* info, void* ucontext);
// Routes the signals that arrived while the core was busy (in the core).
void signal_route_arrivals();

// ---- what could end an idle wait (wake_source.cc) ------------------------------------------
// Nothing can run and nobody sleeps or waits for I/O: what could still end
// the wait? Null: nothing (a deadlock no signal can end). Otherwise why a
// signal may still come and do something: a thread waits for one, an alarm
// or a POSIX timer of the program is armed, or the program handles one
// (*sig: which; 0 for the others) that some thread accepts.
const char* signal_wake_source(int* sig);
// The program's kernel POSIX timers (shim/timer.cc; in the core), so that
// an armed one counts above. `how` as given to timer_create.
void program_timer_created(int id, clockid_t clock, const struct sigevent* how);
void program_timer_deleted(int id);
void program_timers_after_fork_in_child();
// `t` takes `sig` now (it accepts it): handed to its sigwait, or its
// handler runs on it, or the default action is taken. `info` null: as
// pthread_kill's (SI_TKILL from this process).
void signal_take(Thread* t, int sig, const siginfo_t* info);
// A program handler just ran, from any of ptshim's handlers: it counts for
// the running thread's sigsuspend, and one the handler ran on while waiting
// there (a managed signal's handler, run where the kernel thread was, the
// idle sleep of that thread) is woken at the next routing.
void signal_handler_ran();
// The thread a process signal tries first; called on the scheduler's kernel
// thread (start-up, fork child).
void signal_leader_set(Thread* t);
void signal_forget_arrivals();  // after fork, in the child

// ---- waiting for a child (child.cc) -----------------------------------------------------
// wait4 and waitid, between child_wait_begin() and child_wait_end(): look
// with WNOHANG after child_changes(), then child_wait(what it returned),
// until a change is found. kWoken: look again; kSignaled, kInterrupted: as
// from block().
void child_wait_begin();
void child_wait_end();
uint64_t child_changes();
WakeReason child_wait(uint64_t changes_seen);
void child_changed();  // a SIGCHLD is being routed (route.cc)
// Under virtual time child waits have no recheck deadline (child.cc): the
// idle path's real sleep lasts at most this long while any thread waits for
// a child, and then every such waiter looks again (child_recheck).
inline constexpr int64_t kChildRecheckNs = 1'000'000'000;
bool child_waiters_exist();
void child_recheck();
void child_waiters_forget();  // after fork, in the child

// ---- delivery to a thread (deliver.cc) ---------------------------------------------------
// si_errno of a signal ptshim raised for one thread (signal_raised_for).
inline constexpr int kSignalMark = 0x50545348;
// `t` is live and does not block `sig`, or waits for it in sigwait.
bool signal_accepts(const Thread* t, int sig);
// Holds `sig` for `t` (null: for the process) until it is taken.
void signal_hold(Thread* t, int sig, const siginfo_t* info);
Thread* signal_raised_for(int sig);  // the thread a marked `sig` was raised for (once)
void signal_forget_held();           // after fork, in the child
// pthread_kill / pthread_sigqueue: for `t` (info null: pthread_kill's).
void signal_request(Thread* t, int sig, const siginfo_t* info = nullptr);
// At a safe point (outside the core): routes what arrived, then raises the
// running thread's signals, so their handlers run on it.
void deliver_pending_signals();
// block() returned kSignaled: runs the handlers from inside the wait (leaves
// the core for them, as for any program code).
void signal_run_handlers_in_wait();
// After signal_run_handlers_in_wait: no handler that ran asked for
// SA_RESTART's absence, so a restartable call goes on waiting.
bool signal_wait_restarts();
// sigwait's check: a signal of `wanted` held for `t` or for the process,
// taken with its siginfo (0: none).
int signal_take_held(Thread* t, uint64_t wanted, siginfo_t* info);
// The signals held for `t` and for the process (sigpending).
uint64_t signal_held_for(const Thread* t);

}  // namespace ptshim
