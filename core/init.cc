// Start-up: options, the original thread as user thread 1, fork handling,
// and the check that every shim call comes from the scheduler's kernel thread.
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "core/runtime.h"

extern "C" int __register_atfork(void (*prepare)(), void (*parent)(), void (*child)(),
                                 void* dso_handle);
extern "C" void* __dso_handle;

namespace ptshim {

namespace {
bool g_initialized;
// The process this library's state belongs to: set at start-up and in a fork
// child. A vfork child shares the memory but not the pid.
long g_process_pid;
bool g_finished;

const SchedPolicy* policy_of(SchedKind kind) {
  switch (kind) {
    case SchedKind::kRandom:
      return &kRandomPolicy;
    case SchedKind::kPct:
      return &kPctPolicy;
    case SchedKind::kFifo:
      break;
  }
  return &kFifoPolicy;
}

void on_fork_in_child() {
  // fork() runs this in the child before the program's own child handlers.
  enter_core();
  g_process_pid = arch::raw_syscall(SYS_getpid);
  threads_after_fork_in_child();
  if (virtual_time_on()) virtual_time_after_fork_in_child();
  cputime_after_fork_in_child(current());
  thread_timers_after_fork_in_child();
  signal_after_fork_in_child(current());
  scheduler_after_fork_in_child();
  preempt_after_fork_in_child();
  syscall_trap_after_fork_in_child();
  sync_after_fork_in_child();
  stats_after_fork_in_child();
  trace_after_fork_in_child();
  step_after_fork_in_child();
  g_in_core = 0;
}

// Start-up leaves the program's errno as it found it (0 at main, natively):
// the steps' own failed calls (a drained pipe's EAGAIN) are not the program's.
void initialize() {
  int saved_errno = errno;
  g_initialized = true;
  g_process_pid = arch::raw_syscall(SYS_getpid);
  key_reserve_for_ptshim(true);  // libunwind's key, made at its warm-up
  parse_options_or_exit(stack_default_guard_budget());
  if (options().stats) stats_start();
  if (virtual_time_on()) virtual_time_start();  // before anything reads a clock
  // Before the first thread's mask is adopted: the kernel must never block
  // SIGTRAP in a seeded run.
  if (options().seeded) signal_manage_trap();
  arch::context_select(options().switch_kind);
  sched_random_seed(options().seed);
  schedule_recording_start();
  schedule_note_starting_process();
  const SchedPolicy* policy = policy_of(options().sched);
  sched_select_policy(g_recording ? recorded_policy(policy) : policy);
  cputime_start(adopt_main_thread());
  if (options().trace_fd >= 0) trace_start(current());
  mark_scheduler_thread();
  main_stack_locate();
  crash_handlers_install();
  // libunwind is warm now: lock-order checking unwinds at every acquisition.
  if (options().lock_order) lock_order_start();
  syscall_trap_init();  // SIGSYS: after the crash handlers
  thread_route_glibc_create(reinterpret_cast<const void*>(&ptshim_pthread_create));
  preempt_install_handler();
  if (options().seeded) step_install();
  __register_atfork(nullptr, nullptr, on_fork_in_child, __dso_handle);
  key_reserve_for_ptshim(false);
  errno = saved_errno;
}

[[noreturn]] void report_foreign_kernel_thread(const char* function) {
  Writer()
      .str("ptshim: ")
      .str(function)
      .str("() called on kernel thread ")
      .sdec(arch::raw_syscall(SYS_gettid))
      .str(
          ", which ptshim did not create (a raw clone(), bypassing pthread_create); ptshim runs "
          "every thread on one kernel thread and cannot serve this one. Aborting.\n");
  die_by_signal(SIGABRT);
}

__attribute__((constructor)) void initialize_before_main() {
  if (!g_initialized) initialize();
}

// After the program's exit handlers and its static destructors.
__attribute__((destructor)) void finish_at_exit() { finish_process(); }
}  // namespace

// The statistics block, then the schedule's line (the last thing a
// recording run prints), then the trace's end: once, by the process itself,
// never by a vfork child that shares its memory (it would end the parent's
// trace and print its statistics as its own).
void finish_process() {
  if (!g_initialized || g_finished || arch::raw_syscall(SYS_getpid) != g_process_pid) return;
  g_finished = true;
  stats_print_at_exit();
  schedule_print_at_exit();
  trace_finish("exit", 0);
}

void ensure_initialized_or_die(const char* function) {
  if (!g_initialized) {
    initialize();  // a library constructor reached the shim before ours ran
    return;
  }
  if (g_reporting) return;  // libunwind, reporting a crash on a foreign thread
  report_foreign_kernel_thread(function);
}

}  // namespace ptshim
