// A recording run's schedule as reports and the exit show it: the line that
// identifies the schedule (seed, decisions, preemptions, digest, and what
// the run did not control), the last switches, and the preemptions
// PTSHIM_PREEMPT_SHOW asks for.
#include <string.h>
#include <sys/syscall.h>

#include "core/diag/diag.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
long g_starting_pid;  // the process whose exit prints the line (not a fork child)

// A thread that has not run yet: only ptshim's entry is on its stack.
bool only_ptshim(const Backtrace& b) {
  for (size_t i = 0; i < b.n; ++i) {
    if (strncmp(object_of(b.pcs[i]), "libptshim", 9) != 0) return false;
  }
  return true;
}

void write_switch(Writer& w, const SwitchRecord& r) {
  w.str("  decision ").dec(r.decision).str(": thread ").dec(r.from);
  switch (r.why) {
    case SwitchWhy::kBlock:
      w.str(" blocked (").str(wait_kind_name(r.wait)).chr(')');
      break;
    case SwitchWhy::kYield:
      w.str(" yielded");
      break;
    case SwitchWhy::kExit:
      w.str(" exited");
      break;
    case SwitchWhy::kPriority:
      w.str(" made way for a higher priority");
      break;
    case SwitchWhy::kPreempt:
      w.str(" preempted at ").str(sched_point_name(r.point));
      break;
  }
  w.str(", thread ").dec(r.to).str(" runs");
  if (r.function != nullptr && r.why != SwitchWhy::kExit) {
    w.str("; in ").str(r.function).str(" called at ");
    write_site(w, r.site);
  }
  w.chr('\n');
}
}  // namespace

void write_schedule_line(Writer& w) {
  w.str("ptshim: schedule");
  if (options().seeded) w.str(" seed=").dec(options().seed);
  w.str(" decisions=").dec(decision_count()).str(" preemptions=").dec(preemption_count());
  w.str(" digest=");
  static const char kHex[] = "0123456789abcdef";
  uint64_t digest = schedule_digest();
  for (int shift = 28; shift >= 0; shift -= 4) w.chr(kHex[(digest >> shift) & 0xf]);
  const char* separator = "; not controlled: ";
  for (int i = 0; i < static_cast<int>(Uncontrolled::kCount); ++i) {
    auto what = static_cast<Uncontrolled>(i);
    uint64_t n = uncontrolled_count(what);
    if (n == 0) continue;
    w.str(separator).dec(n).chr(' ').str(uncontrolled_name(what, n));
    separator = ", ";
  }
  if (address_layout_random()) w.str(separator).str("address-space randomisation on");
  w.chr('\n');
}

void write_schedule_record(Writer& w) {
  if (!g_recording) return;
  write_schedule_line(w);
  SwitchRecord recent[kRecentSwitches];
  size_t n = recent_switches(recent);
  if (n == 0) return;
  w.str("  the last ").dec(n).str(" switches, oldest first:\n");
  for (size_t i = 0; i < n; ++i) write_switch(w, recent[i]);
}

void schedule_print_at_exit() {
  if (!g_recording || arch::raw_syscall(SYS_getpid) != g_starting_pid) return;
  Writer w;
  as_report(w);
  write_schedule_line(w);
}

void schedule_note_starting_process() { g_starting_pid = arch::raw_syscall(SYS_getpid); }

void report_preemption(uint64_t number, const Thread* from, const Thread* to) {
  int outer = g_reporting;
  g_reporting = 1;
  symbolizer_report_begin();
  {
    Writer w;
    as_report(w);
    w.str("ptshim: preemption ").dec(number).str(" (decision ").dec(decision_count()).str("): ");
    write_thread_name(w, from);
    w.str(" -> ");
    write_thread_name(w, to);
    w.chr('\n');
    write_thread_name(w.str("  "), from);
    w.str(" is preempted at:\n");
    write_backtrace(w, backtrace_running(nullptr));
    Backtrace next = backtrace_saved(to);
    write_thread_name(w.str("  "), to);
    if (only_ptshim(next)) {
      w.str(" starts (it has not run yet)\n");
    } else {
      w.str(" goes on from:\n");
      write_backtrace(w, next);
    }
  }
  g_reporting = outer;
}

}  // namespace ptshim
