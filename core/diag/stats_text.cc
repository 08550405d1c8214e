// The statistics block of PTSHIM_STATS=1, printed at exit by every process
// (a fork child prints its own, counted from the fork). The counts are
// core/sched's (stats.cc); every line is described in docs/design.md,
// "Statistics".
#include <sys/syscall.h>

#include "core/diag/diag.h"

namespace ptshim {

namespace {
constexpr size_t kBusiestLocks = 5;

// 12.3 us, 45.6 ms, 7.890 s: three or four digits, whatever the scale.
void write_duration(Writer& w, uint64_t ns) {
  if (ns < 1000 * 1000) {
    w.dec(ns / 1000).chr('.').dec(ns % 1000 / 100).str(" us");
  } else if (ns < kNsPerSec) {
    w.dec(ns / (1000 * 1000)).chr('.').dec(ns % (1000 * 1000) / (100 * 1000)).str(" ms");
  } else {
    uint64_t ms = ns / (1000 * 1000);
    w.dec(ms / 1000).chr('.');
    uint64_t frac = ms % 1000;
    if (frac < 100) w.chr('0');
    if (frac < 10) w.chr('0');
    w.dec(frac).str(" s");
  }
}

const char* lock_kind_name(WaitKind kind) {
  switch (kind) {
    case WaitKind::kRwRead:
    case WaitKind::kRwWrite:
      return "rwlock";
    default:
      return wait_kind_name(kind);
  }
}

// A lock as reports name it: its kind, then its symbol (a global or static),
// else its address and the object it lies in.
void write_lock(Writer& w, const StatsLock& lock) {
  w.str(lock_kind_name(lock.kind)).chr(' ');
  if (write_lock_symbol(w, lock.object)) return;
  auto address = reinterpret_cast<uintptr_t>(lock.object);
  w.hex(address);
  uintptr_t base = object_base_of(address);
  if (base != 0) w.str(" (").str(object_of(address)).chr('+').hex(address - base).chr(')');
}

void write_header(Writer& w) {
  w.str("ptshim: stats (pid ").dec(static_cast<uint64_t>(arch::raw_syscall(SYS_getpid)));
  if (g_stats.parent_pid != 0) {
    w.str(", forked from ").dec(static_cast<uint64_t>(g_stats.parent_pid));
  }
  w.str(", ");
  write_duration(w, stats_elapsed_ns());
  w.str(" elapsed, ");
  write_duration(w, stats_cpu_ns());
  w.str(" CPU):\n");
}

void write_switches(Writer& w) {
  const uint64_t* s = g_stats.switches;
  uint64_t total = 0;
  for (int i = 0; i < kStatsSwitchWhys; ++i) total += s[i];
  w.str("  switches: ").dec(total);
  w.str(" (blocked ").dec(s[static_cast<int>(SwitchWhy::kBlock)]);
  w.str(", yielded ").dec(s[static_cast<int>(SwitchWhy::kYield)]);
  w.str(", preempted ").dec(s[static_cast<int>(SwitchWhy::kPreempt)]);
  w.str(", made way for a higher priority ").dec(s[static_cast<int>(SwitchWhy::kPriority)]);
  w.str(", exited ").dec(s[static_cast<int>(SwitchWhy::kExit)]).str(")\n");
  const uint64_t* at = g_stats.preempted_at;
  uint64_t other = 0;
  for (int i = 0; i < static_cast<int>(SchedPoint::kCount); ++i) {
    if (i != static_cast<int>(SchedPoint::kTick) &&
        i != static_cast<int>(SchedPoint::kInstruction)) {
      other += at[i];
    }
  }
  w.str("  preempted: ").dec(at[static_cast<int>(SchedPoint::kTick)]).str(" at ticks, ");
  w.dec(at[static_cast<int>(SchedPoint::kInstruction)]).str(" at seeded instruction slices, ");
  w.dec(other).str(" at other scheduling points\n");
}

void write_deferred(Writer& w) {
  uint64_t taken = g_stats.deferred_taken;
  w.str("  deferred ticks: ").dec(taken + g_stats.deferred_overtaken);
  w.str(" found the thread at an unsafe point; ").dec(taken).str(" taken at a safe point");
  if (taken != 0) {
    w.str(" after ");
    write_duration(w, stats_ns(g_stats.deferred_cycles / taken));
    w.str(" mean, ");
    write_duration(w, stats_ns(g_stats.deferred_max_cycles));
    w.str(" max");
  }
  w.str(", ").dec(g_stats.deferred_overtaken).str(" overtaken by the thread's own switch\n");
}

void write_waits(Writer& w) {
  uint64_t count = 0, cycles = 0;
  for (int i = 0; i < kStatsWaitKinds; ++i) {
    count += g_stats.waits[i];
    cycles += g_stats.wait_cycles[i];
  }
  w.str("  blocked: ").dec(count).str(" waits, ");
  write_duration(w, stats_ns(cycles));
  w.str(count == 0 ? "\n" : " summed over the threads:\n");
  for (int i = 0; i < kStatsWaitKinds; ++i) {
    if (g_stats.waits[i] == 0) continue;
    w.str("    ").str(wait_kind_name(static_cast<WaitKind>(i))).str(": ");
    w.dec(g_stats.waits[i]).str(g_stats.waits[i] == 1 ? " wait, " : " waits, ");
    write_duration(w, stats_ns(g_stats.wait_cycles[i]));
    w.chr('\n');
  }
}

void write_locks(Writer& w) {
  StatsLock busiest[kBusiestLocks];
  size_t n = stats_busiest_locks(busiest, kBusiestLocks);
  w.str("  contended locks: ").dec(g_stats.locks_contended);
  if (g_stats.locks_untracked != 0) {
    w.str(" (and ").dec(g_stats.locks_untracked).str(" waits on locks not tracked)");
  }
  w.str(n == 0 ? "\n" : ", the busiest:\n");
  for (size_t i = 0; i < n; ++i) {
    w.str("    ");
    write_lock(w, busiest[i]);
    w.str(": ").dec(busiest[i].waits).str(busiest[i].waits == 1 ? " wait, " : " waits, ");
    write_duration(w, stats_ns(busiest[i].cycles));
    w.chr('\n');
  }
}
}  // namespace

void stats_print_at_exit() {
  if (!stats_on()) return;
  Writer w;
  as_report(w);
  write_header(w);
  w.str("  threads: ").dec(g_stats.threads_created).str(" created, ");
  w.dec(g_stats.alive_max).str(" alive at most, ").dec(g_stats.threads_exited).str(" exited\n");
  write_switches(w);
  write_deferred(w);
  write_waits(w);
  write_locks(w);
}

}  // namespace ptshim
