// Reports to stderr, written with write(2) from a stack buffer: they may be
// made with the heap or stdio in any state.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/runtime.h"

namespace ptshim {

Writer& Writer::chr(char c) {
  if (len == sizeof buf) flush();
  buf[len++] = c;
  return *this;
}

Writer& Writer::str(const char* s) {
  while (*s != '\0') chr(*s++);
  return *this;
}

Writer& Writer::dec(uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) chr(digits[--n]);
  return *this;
}

Writer& Writer::sdec(int64_t v) {
  if (v < 0) {
    chr('-');
    return dec(static_cast<uint64_t>(-(v + 1)) + 1);
  }
  return dec(static_cast<uint64_t>(v));
}

Writer& Writer::hex(uint64_t v) {
  str("0x");
  char digits[16];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  while (n > 0) chr(digits[--n]);
  return *this;
}

namespace {
void write_all(int fd, const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    long n = arch::raw_syscall(SYS_write, fd, reinterpret_cast<long>(data + done),
                               static_cast<long>(size - done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}
}  // namespace

volatile int g_reporting;

void Writer::flush() {
  write_all(fd, buf, len);
  if (copy_fd >= 0) write_all(copy_fd, buf, len);
  len = 0;
}

void fatal(const char* message) {
  Writer().str(message).chr('\n');
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  __sigaction(SIGABRT, &dfl, nullptr);  // no crash report for the shim's own abort
  abort();
}

const char* wait_kind_name(WaitKind k) {
  switch (k) {
    case WaitKind::kNone:
      return "nothing";
    case WaitKind::kMutex:
      return "mutex";
    case WaitKind::kCond:
      return "condvar";
    case WaitKind::kJoin:
      return "join";
    case WaitKind::kOnce:
      return "pthread_once";
    case WaitKind::kSleep:
      return "sleep";
    case WaitKind::kBarrier:
      return "barrier";
    case WaitKind::kRwRead:
      return "rwlock (to read)";
    case WaitKind::kRwWrite:
      return "rwlock (to write)";
    case WaitKind::kSemaphore:
      return "semaphore";
    case WaitKind::kSpin:
      return "spinlock";
    case WaitKind::kIo:
      return "file descriptors";
    case WaitKind::kFutex:
      return "futex";
  }
  return "?";
}

// ---- threads ------------------------------------------------------------------

void write_thread_name(Writer& w, const Thread* t) {
  w.str("thread ").dec(t->number).str(" \"");
  if (t->name[0] != '\0') {
    w.str(t->name);
  } else if (t->is_main) {
    w.str("main");
  } else {
    char symbol[128];
    uintptr_t offset;
    auto start = t->c11_start_routine != nullptr ? reinterpret_cast<uintptr_t>(t->c11_start_routine)
                                                 : reinterpret_cast<uintptr_t>(t->start_routine);
    w.str(symbol_of(start, symbol, sizeof symbol, &offset) && offset == 0 ? symbol : "?");
  }
  w.chr('"');
}

namespace {
const Thread* mutex_owner(const Thread* t) {
  if (t->state != ThreadState::kBlocked || t->wait_kind != WaitKind::kMutex) return nullptr;
  const Thread* owner = static_cast<const Mutex*>(t->wait_object)->owner;
  return owner != nullptr && thread_is_valid(owner) ? owner : nullptr;
}

// The thread `t` waits for, if it waits for one: a mutex owner or a join target.
const Thread* waits_for(const Thread* t) {
  if (t->state != ThreadState::kBlocked) return nullptr;
  if (t->wait_kind == WaitKind::kJoin) return static_cast<const Thread*>(t->wait_object);
  return mutex_owner(t);
}
}  // namespace

void write_thread_state(Writer& w, const Thread* t) {
  switch (t->state) {
    case ThreadState::kExited:
      w.str("exited, not joined");
      return;
    case ThreadState::kRunning:
      w.str("running");
      return;
    case ThreadState::kRunnable:
      w.str("runnable");
      return;
    case ThreadState::kFree:
      w.str("gone");
      return;
    case ThreadState::kBlocked:
      break;
  }
  switch (t->wait_kind) {
    case WaitKind::kMutex: {
      const auto* m = static_cast<const Mutex*>(t->wait_object);
      w.str("waiting on mutex ").hex(reinterpret_cast<uintptr_t>(m));
      if (m->owner == nullptr) {
        w.str(" (unlocked)");
      } else if (thread_is_valid(m->owner)) {
        w.str(" held by thread ").dec(m->owner->number);
        if (m->owner == t) w.str(" (itself)");
        if (m->owner->state == ThreadState::kExited) w.str(" (exited)");
      } else {
        w.str(" held by a thread that no longer exists");
      }
      break;
    }
    case WaitKind::kJoin:
      w.str("joining thread ").dec(static_cast<const Thread*>(t->wait_object)->number);
      break;
    case WaitKind::kSleep:
      w.str("sleeping");
      break;
    default:
      w.str("waiting on ").str(wait_kind_name(t->wait_kind)).chr(' ');
      w.hex(reinterpret_cast<uintptr_t>(t->wait_object));
      break;
  }
  if (t->heap_slot != 0) {
    uint64_t now = monotonic_now_ns();
    uint64_t left = t->deadline_ns > now ? t->deadline_ns - now : 0;
    w.str(", timeout in ").dec(left / 1000000).str(" ms");
  }
}

// ---- backtraces --------------------------------------------------------------------

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

void write_frame(Writer& w, uintptr_t pc, bool exact) {
  w.hex(pc).chr(' ');
  char symbol[160];
  uintptr_t offset;
  // A return address may lie just past its call's function: look up pc - 1.
  uintptr_t lookup = exact ? pc : pc - 1;
  // Far from the nearest symbol is a stripped object's local function: the
  // nearest exported name would mislead.
  constexpr uintptr_t kPlausibleOffset = 0x10000;
  if (symbol_of(lookup, symbol, sizeof symbol, &offset) && offset < kPlausibleOffset) {
    w.str(symbol).str("+").hex(offset + (pc - lookup));
  } else {
    w.str("??");
  }
  w.str(" (").str(object_of(pc)).str(")");
}

void write_run(Writer& w, const uintptr_t* pcs, const Run& run, bool first_exact) {
  size_t last = run.first + run.period * run.repeats - 1;
  if (run.repeats == 1) {
    w.str("  #").dec(run.first).chr(' ');
    write_frame(w, pcs[run.first], first_exact && run.first == 0);
    w.chr('\n');
    return;
  }
  if (run.period == 1) {
    w.str("  #").dec(run.first).str("..#").dec(last).chr(' ');
    write_frame(w, pcs[run.first], first_exact && run.first == 0);
    w.str(" (repeated ").dec(run.repeats).str(" times)\n");
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
  }
}
}  // namespace

namespace {
bool in_object(uintptr_t pc, const char* prefix) {
  return strncmp(object_of(pc), prefix, strlen(prefix)) == 0;
}
}  // namespace

void write_backtrace(Writer& w, const uintptr_t* pcs, size_t n, bool first_exact) {
  if (!options().backtraces) return;
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

namespace {
constexpr size_t kSavedFrames = 4096;
uintptr_t g_saved_pcs[kSavedFrames];

bool is_scheduler_frame(uintptr_t pc) {
  const char* object = object_of(pc);
  return strncmp(object, "libptshim", 9) == 0 || strncmp(object, "libc.so", 7) == 0;
}

}  // namespace

// Drops the frames of the shim (and libc's swapcontext or signal return)
// above a thread's own code.
size_t skip_scheduler_frames(const uintptr_t* pcs, size_t n) {
  size_t i = 0;
  while (i < n && is_scheduler_frame(pcs[i])) ++i;
  return i < n ? i : 0;
}

void write_saved_backtrace(Writer& w, const Thread* t) {
  size_t n = unwind_saved(&t->context, g_saved_pcs, kSavedFrames);
  size_t skip = skip_scheduler_frames(g_saved_pcs, n);
  write_backtrace(w, g_saved_pcs + skip, n - skip, false);
}

void write_thread_dump(Writer& w, const uintptr_t* running_pcs, size_t running_n) {
  for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
    write_thread_name(w.str("  "), t);
    w.str(": ");
    write_thread_state(w, t);
    w.chr('\n');
    if (t->state == ThreadState::kExited) continue;
    if (t == current()) {
      if (running_pcs != nullptr) write_backtrace(w, running_pcs, running_n, false);
    } else {
      write_saved_backtrace(w, t);
    }
  }
}

// ---- deadlock ----------------------------------------------------------------------

namespace {
uintptr_t g_running_pcs[kSavedFrames];

// A wait-for cycle through `start`, written as one sentence; false if none.
bool write_cycle(Writer& w, const Thread* start) {
  const Thread* slow = start;
  const Thread* fast = start;
  do {  // is there a cycle reachable from start?
    slow = waits_for(slow);
    fast = waits_for(fast);
    if (fast != nullptr) fast = waits_for(fast);
    if (slow == nullptr || fast == nullptr) return false;
  } while (slow != fast);
  const Thread* t = slow;  // on the cycle
  w.str("ptshim: wait-for cycle: thread ").dec(t->number);
  do {
    const Thread* next = waits_for(t);
    if (t->wait_kind == WaitKind::kMutex) {
      w.str(" waits for mutex ").hex(reinterpret_cast<uintptr_t>(t->wait_object));
      w.str(" held by thread ").dec(next->number);
    } else {
      w.str(" joins thread ").dec(next->number);
    }
    t = next;
    if (t != slow) w.str(", which");
  } while (t != slow);
  w.chr('\n');
  return true;
}
}  // namespace

void report_deadlock_and_abort() {
  g_reporting = 1;
  {
    Writer w;
    as_report(w);
    w.str("ptshim: deadlock: no thread can run and none is sleeping; ")
        .dec(live_thread_count())
        .str(" thread(s) blocked forever:\n");
    for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
      if (t->state == ThreadState::kExited) continue;
      write_thread_name(w.str("  "), t);
      w.str(": ");
      write_thread_state(w, t);
      w.chr('\n');
    }
    for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
      if (write_cycle(w, t)) break;
    }
    if (options().backtraces) {
      size_t n = unwind_running(g_running_pcs, kSavedFrames);
      size_t skip = skip_scheduler_frames(g_running_pcs, n);
      w.str("ptshim: backtraces:\n");
      write_thread_dump(w, g_running_pcs + skip, n - skip);
    }
  }
  // Die by SIGABRT even if the program ignores or handles it.
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  __sigaction(SIGABRT, &dfl, nullptr);
  abort();
}

}  // namespace ptshim
