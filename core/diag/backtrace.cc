// Backtraces in reports: taking them (the running thread's, or a parked
// thread's from its saved context) with the one frame-skip rule, and writing
// them with repeating runs collapsed (a runaway recursion is one line).
#include <string.h>

#include "core/diag/diag.h"

namespace ptshim {

namespace {
constexpr size_t kRunningFrames = size_t{1} << 20;  // 8 MiB of PCs, reserved lazily
constexpr size_t kSavedFrames = 4096;
uintptr_t* g_running_pcs;  // mapped by backtrace_reserve, before any fault
uintptr_t g_saved_pcs[kSavedFrames];

bool in_object(uintptr_t pc, const char* prefix) {
  return strncmp(object_of(pc), prefix, strlen(prefix)) == 0;
}

bool in_runtime(uintptr_t pc, bool cxx_runtime) {
  if (in_object(pc, "libptshim") || in_object(pc, "libc.so")) return true;
  return cxx_runtime && (in_object(pc, "libstdc++.so") || in_object(pc, "libgcc_s.so"));
}
}  // namespace

// THE RULE: a backtrace starts at the program's own frames. The leading
// frames of ptshim and of libc (its swapcontext, a signal return, a libc
// function that called into ptshim) are dropped, and with `cxx_runtime`
// those of the C++ runtime (__cxa_throw, std::terminate, the unwinder),
// unless nothing else is left.
Backtrace from_program_frames(const Backtrace& b, bool cxx_runtime) {
  size_t i = 0;
  while (i < b.n && in_runtime(b.pcs[i], cxx_runtime)) ++i;
  if (i == b.n) i = 0;
  return Backtrace{b.pcs + i, b.n - i, b.first_exact && i == 0};
}

void backtrace_reserve() {
  g_running_pcs =
      static_cast<uintptr_t*>(internal_alloc_zeroed(kRunningFrames * sizeof(uintptr_t)));
}

Backtrace backtrace_running(const void* ucontext) {
  if (!options().backtraces || g_running_pcs == nullptr) return Backtrace{nullptr, 0, false};
  size_t n = unwind_running(g_running_pcs, kRunningFrames);
  if (ucontext == nullptr) return from_program_frames(Backtrace{g_running_pcs, n, false}, false);
  // From the interrupted instruction: the frames above it are the handler's.
  uintptr_t pc = arch::interrupted_pc(ucontext);
  for (size_t i = 0; i < n; ++i) {
    if (g_running_pcs[i] == pc) return Backtrace{g_running_pcs + i, n - i, true};
  }
  return Backtrace{g_running_pcs, n, true};
}

Backtrace backtrace_saved(const Thread* t) {
  if (!options().backtraces) return Backtrace{nullptr, 0, false};
  size_t n = unwind_saved(&t->context, g_saved_pcs, kSavedFrames);
  return from_program_frames(Backtrace{g_saved_pcs, n, false}, false);
}

void write_symbol(Writer& w, const char* symbol) {
  static char demangled[1024];  // reports are written one at a time
  w.str(demangle(symbol, demangled, sizeof demangled) != 0 ? demangled : symbol);
}

namespace {
void write_code_address(Writer& w, uintptr_t pc, bool exact, bool program_line) {
  w.hex(pc).chr(' ');
  static char symbol[1024];  // C++ names are long; thread stacks may be small
  uintptr_t offset;
  // A return address may lie just past its call's function: look up pc - 1.
  uintptr_t lookup = exact ? pc : pc - 1;
  // Far from the nearest symbol is a stripped object's local function: the
  // nearest exported name would mislead.
  constexpr uintptr_t kPlausibleOffset = 0x10000;
  if (symbol_of(lookup, symbol, sizeof symbol, &offset) && offset < kPlausibleOffset) {
    write_symbol(w, symbol);
    w.str("+").hex(offset + (pc - lookup));
    w.str(" (").str(object_of(pc)).str(")");
  } else {
    // No name that is right: the object and the offset in it, which
    // addr2line, gdb or the object's debug file can still resolve.
    w.str(object_of(pc)).str("+").hex(pc - object_base_of(pc));
  }
  if (program_line) {
    write_program_source(w, lookup);
  } else {
    write_source(w, lookup);
  }
}
}  // namespace

void write_frame(Writer& w, uintptr_t pc, bool exact) { write_code_address(w, pc, exact, false); }

void write_site(Writer& w, uintptr_t return_address) {
  write_code_address(w, return_address, false, true);
}

namespace {
constexpr size_t kMaxPeriod = 8;   // longest repeating pattern collapsed
constexpr size_t kMinRepeats = 3;  // shorter repetitions are printed as they are
constexpr size_t kHeadItems = 48;  // innermost lines shown
constexpr size_t kTailItems = 24;  // outermost lines shown

// A run of frames: `period` frames starting at `first`, repeated `repeats` times.
struct Run {
  size_t first;
  size_t period;
  size_t repeats;
};

size_t repeats_at(const uintptr_t* pcs, size_t n, size_t i, size_t period) {
  size_t r = 1;
  while (i + (r + 1) * period <= n) {
    for (size_t k = 0; k < period; ++k) {
      if (pcs[i + r * period + k] != pcs[i + k]) return r;
    }
    ++r;
  }
  return r;
}

Run next_run(const uintptr_t* pcs, size_t n, size_t i) {
  for (size_t period = 1; period <= kMaxPeriod && i + period * kMinRepeats <= n; ++period) {
    size_t r = repeats_at(pcs, n, i, period);
    if (r >= kMinRepeats) return Run{i, period, r};
  }
  return Run{i, 1, 1};
}

uintptr_t lookup_pc(uintptr_t pc, bool exact) { return exact ? pc : pc - 1; }

void write_run(Writer& w, const uintptr_t* pcs, const Run& run, bool first_exact) {
  size_t last = run.first + run.period * run.repeats - 1;
  if (run.repeats == 1) {
    w.str("  #").dec(run.first).chr(' ');
    write_frame(w, pcs[run.first], first_exact && run.first == 0);
    w.chr('\n');
    write_inlined(w, lookup_pc(pcs[run.first], first_exact && run.first == 0), "      ");
    return;
  }
  if (run.period == 1) {
    w.str("  #").dec(run.first).str("..#").dec(last).chr(' ');
    write_frame(w, pcs[run.first], first_exact && run.first == 0);
    w.str(" (repeated ").dec(run.repeats).str(" times)\n");
    write_inlined(w, lookup_pc(pcs[run.first], first_exact && run.first == 0), "      ");
    return;
  }
  w.str("  #")
      .dec(run.first)
      .str("..#")
      .dec(last)
      .str(" these ")
      .dec(run.period)
      .str(" frames, repeated ")
      .dec(run.repeats)
      .str(" times:\n");
  for (size_t k = 0; k < run.period; ++k) {
    w.str("      ");
    write_frame(w, pcs[run.first + k], first_exact && run.first + k == 0);
    w.chr('\n');
    write_inlined(w, lookup_pc(pcs[run.first + k], first_exact && run.first + k == 0),
                  "          ");
  }
}
}  // namespace

void write_backtrace(Writer& w, const Backtrace& b) {
  if (!options().backtraces) return;
  const uintptr_t* pcs = b.pcs;
  size_t n = b.n;
  bool first_exact = b.first_exact;
  // A created thread's outermost frames are ptshim's entry and libc's
  // context-start trampoline (ptshim's own, or libc's makecontext one): the
  // start routine is the real beginning.
  size_t outer = n;
  if (outer > 1 && in_object(pcs[outer - 1], "libc.so") && in_object(pcs[outer - 2], "libptshim")) {
    --outer;
  }
  while (outer > 1 && in_object(pcs[outer - 1], "libptshim")) --outer;
  if (outer < n && outer > 0 && !in_object(pcs[outer - 1], "libptshim")) n = outer;
  if (n == 0) {
    w.str("  (no backtrace)\n");
    return;
  }
  // Two passes over the runs: count them, then print the head and the tail.
  size_t runs = 0;
  for (size_t i = 0; i < n; i += next_run(pcs, n, i).period * next_run(pcs, n, i).repeats) ++runs;
  size_t index = 0;
  bool gap_written = false;
  for (size_t i = 0; i < n; ++index) {
    Run run = next_run(pcs, n, i);
    if (index < kHeadItems || index + kTailItems >= runs) {
      write_run(w, pcs, run, first_exact);
    } else if (!gap_written) {
      w.str("  ... ").dec(runs - kHeadItems - kTailItems).str(" lines not shown ...\n");
      gap_written = true;
    }
    i += run.period * run.repeats;
  }
}

}  // namespace ptshim
