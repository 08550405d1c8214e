// PTSHIM_TRACE=FILE: the schedule's timeline in the Trace Event Format's
// JSON Array Format, which Perfetto UI, speedscope and Chrome's trace viewer
// open. One track per user thread (pid: the process, tid: ptshim's thread
// number), named by "M" events as reports name the thread (again when it is
// renamed); an "X" slice "running" for each time a thread ran, one for each
// wait (named by kind and object, with the holder); "i" instants for
// preemptions, deferred ticks, creations (with the program's site), exits
// and contention (a thread blocking on a lock another holds).
//
// INVARIANTS:
// - Events are written only while g_observe has kObserveTrace, inside the
//   core section (observe.cc's hooks), or by a process about to die
//   (trace_finish from g_last_words): an event is written past the window's
//   pos and committed by moving pos, so a death midway leaves the last
//   committed event whole and the dying writer overwrites the rest.
// - A running slice ends at each switch to another thread and nowhere else,
//   except two kinds that say why in args.end: a wait that ended without a
//   switch (nothing else could run; the thread's slice stops at the block),
//   and the running thread's last slice at the end (exit or a signal). So
//   the running slices without args.end are the switches that --stats counts
//   (one hook, observe_switch, feeds both).
// - A thread that blocks or exits stops running there (observe_stop), not at
//   the switch, which may come after the kernel thread slept; a wait slice
//   runs from there to the thread's switch back in: one thread's slices never overlap, and all
//   threads' running slices are disjoint, as one kernel thread runs them.
// - Time stamps are CLOCK_MONOTONIC, real time even under virtual time, in
//   microseconds with three decimals, read as the cycle counter (12 ns here,
//   against 33 ns for the vDSO's clock_gettime) and converted at a rate
//   measured at the start (a 200 us spin) and measured again over the whole
//   run at every window move; each new rate starts from the converted time
//   then, so stamps never go back.
// - A wait object's name is made once (a small open-addressing table in
//   internal memory, as stats.cc's lock table) and copied into each of its
//   waits.
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>

#include <cstring>

#include "core/diag/diag.h"
#include "core/sync/sync.h"
#include "core/thread/thread.h"

namespace ptshim {

namespace {
// ---- the clock ---------------------------------------------------------------------------
constexpr uint64_t kCalibrationNs = 200'000;
struct Clock {
  uint64_t origin_cycles, origin_ns;  // the rate is measured from here
  uint64_t base_cycles, base_ns;      // conversions start from here
  uint64_t ns_per_cycle_q32;          // the rate, 32 fraction bits
};
Clock g_clock;

uint64_t clock_ns(uint64_t cycles) {
  const Clock& c = g_clock;
  if (cycles >= c.base_cycles) {
    return c.base_ns +
           static_cast<uint64_t>(
               (static_cast<unsigned __int128>(cycles - c.base_cycles) * c.ns_per_cycle_q32) >> 32);
  }
  return c.base_ns -
         static_cast<uint64_t>(
             (static_cast<unsigned __int128>(c.base_cycles - cycles) * c.ns_per_cycle_q32) >> 32);
}

// (In double: a 128-bit division would need libgcc's __udivti3, which the
// library may not import; 53 bits of precision are plenty for a rate.)
void clock_set_rate(uint64_t cycles, uint64_t ns) {
  uint64_t dc = cycles - g_clock.origin_cycles;
  if (dc == 0) return;
  g_clock.ns_per_cycle_q32 = static_cast<uint64_t>(static_cast<double>(ns - g_clock.origin_ns) *
                                                   4294967296.0 / static_cast<double>(dc));
}

void clock_start() {
  g_clock.origin_cycles = arch::cycle_counter();
  g_clock.origin_ns = real_monotonic_now_ns();
  uint64_t ns;
  while ((ns = real_monotonic_now_ns()) - g_clock.origin_ns < kCalibrationNs) {
  }
  uint64_t cycles = arch::cycle_counter();
  clock_set_rate(cycles, ns);
  g_clock.base_cycles = cycles;
  g_clock.base_ns = ns;
}
}  // namespace

void trace_clock_refine() {
  uint64_t cycles = arch::cycle_counter();
  uint64_t ns = real_monotonic_now_ns();
  uint64_t continued = clock_ns(cycles);
  clock_set_rate(cycles, ns);
  g_clock.base_cycles = cycles;
  g_clock.base_ns = continued;
}

namespace {
// ---- writing ----------------------------------------------------------------------------
constexpr size_t kNameMax = 300;    // a name's rendered text, at most
constexpr size_t kEventMax = 8192;  // room reserved for an event, names escaped

long g_pid;
char g_pid_text[24];  // `"pid":123`
size_t g_pid_len;

char* put(char* p, const char* s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}
template <size_t N>
char* put(char* p, const char (&s)[N]) {
  return put(p, s, N - 1);
}

// Straight into the event, two digits at a time: no copy of variable
// length (a call to memcpy), no division but by constants.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
char* put_dec(char* p, uint64_t v) {
  int n = 1;
  for (uint64_t x = v; x >= 10; x /= 10) ++n;
  char* end = p + n;
  char* d = end;
  while (v >= 100) {
    const char* pair = kDigitPairs + 2 * (v % 100);
    v /= 100;
    *--d = pair[1];
    *--d = pair[0];
  }
  if (v >= 10) {
    *--d = kDigitPairs[2 * v + 1];
    *--d = kDigitPairs[2 * v];
  } else {
    *--d = static_cast<char>('0' + v);
  }
  return end;
}

// "000" to "999", four bytes apart: a group of three digits is one load and
// one four-byte store (the fourth byte is overwritten next, or is past the
// event's end within the room reserved for it).
struct DigitTriples {
  char text[1000][4];
};
constexpr DigitTriples make_digit_triples() {
  DigitTriples t{};
  for (int i = 0; i < 1000; ++i) {
    t.text[i][0] = static_cast<char>('0' + i / 100);
    t.text[i][1] = static_cast<char>('0' + i / 10 % 10);
    t.text[i][2] = static_cast<char>('0' + i % 10);
  }
  return t;
}
constexpr DigitTriples kDigitTriples = make_digit_triples();
char* put_triple(char* p, uint64_t v) {  // 000..999
  memcpy(p, kDigitTriples.text[v], 4);
  return p + 3;
}

// Microseconds with three decimals: 1234.567.
char* put_us(char* p, uint64_t ns) {
  p = put_dec(p, ns / 1000);
  *p++ = '.';
  return put_triple(p, ns % 1000);
}

// A time stamp, as put_us, but its whole seconds come from the last stamp's
// text while they stay the same: a switch formats nine digits, in three
// groups, not fifteen one pair at a time.
struct SecondsText {
  uint64_t seconds = ~uint64_t{0};
  char text[24];
  size_t len;
};
SecondsText g_seconds;
char* put_stamp(char* p, uint64_t ns) {
  uint64_t seconds = ns / 1'000'000'000;
  if (seconds == 0) return put_us(p, ns);
  if (seconds != g_seconds.seconds) {
    g_seconds.seconds = seconds;
    g_seconds.len = static_cast<size_t>(put_dec(g_seconds.text, seconds) - g_seconds.text);
  }
  memcpy(p, g_seconds.text, sizeof g_seconds.text);  // a constant size: inlined
  p += g_seconds.len;
  auto within = static_cast<uint32_t>(ns - seconds * 1'000'000'000);
  p = put_triple(p, within / 1'000'000);
  p = put_triple(p, within / 1000 % 1000);
  *p++ = '.';
  return put_triple(p, within % 1000);
}

char* put_escaped(char* p, const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = static_cast<char>(c);
    } else if (c < 0x20) {
      p = put(p, "\\u00");
      *p++ = "0123456789abcdef"[c >> 4];
      *p++ = "0123456789abcdef"[c & 15];
    } else {
      *p++ = static_cast<char>(c);
    }
  }
  return p;
}
char* put_escaped(char* p, const char* s) { return put_escaped(p, s, strlen(s)); }

// `{"ph":"<ph>",<pid>,"tid":N`
char* put_head(char* p, char ph, uint64_t tid) {
  p = put(p, "{\"ph\":\"");
  *p++ = ph;
  p = put(p, "\",");
  memcpy(p, g_pid_text, sizeof g_pid_text);  // a constant size: inlined
  p += g_pid_len;
  p = put(p, ",\"tid\":");
  return put_dec(p, tid);
}

// Text a report function writes (a Writer that goes nowhere), cut to kNameMax.
struct Text {
  char text[kNameMax];
  size_t len = 0;
};
template <typename F>
void render(Text& out, F write) {
  Writer w;
  w.fd = -1;
  write(w);
  out.len = w.len < kNameMax ? w.len : kNameMax;
  memcpy(out.text, w.buf, out.len);
  w.len = 0;
}

// Names made outside a report, by report code: as misuse warnings are, with
// g_reporting set (the symbolizer may be asked; no fast path meanwhile).
template <typename F>
void render_named(Text& out, F write) {
  bool was_reporting = g_reporting;
  if (!was_reporting) report_while_others_run_begin();
  render(out, write);
  if (!was_reporting) report_while_others_run_end();
}

void commit_event(char* p) { trace_commit(p); }

// ---- wait objects' names -----------------------------------------------------------------
// The JSON text after a wait slice's time: `"name":"mutex accounts","args":
// {"kind":"mutex","object":"mutex accounts (prog+0x4060)"` (the holder and
// the closing braces follow per wait).
struct NameEntry {
  const void* object;
  WaitKind kind;
  uint32_t len;
  char* json;
};
constexpr size_t kFirstNames = 64;
constexpr size_t kMaxNames = size_t{1} << 16;
NameEntry* g_names;
size_t g_name_capacity;
size_t g_name_count;

size_t name_slot(const void* object, WaitKind kind, size_t capacity) {
  uint64_t h =
      (reinterpret_cast<uintptr_t>(object) ^ static_cast<uint64_t>(kind)) * 0x9e3779b97f4a7c15u;
  return static_cast<size_t>(h >> 32) & (capacity - 1);
}

NameEntry* name_probe(NameEntry* table, size_t capacity, const void* object, WaitKind kind) {
  size_t i = name_slot(object, kind, capacity);
  while (table[i].json != nullptr && (table[i].object != object || table[i].kind != kind)) {
    i = (i + 1) & (capacity - 1);
  }
  return &table[i];
}

void grow_names() {
  size_t capacity = g_name_capacity == 0 ? kFirstNames : g_name_capacity * 2;
  auto* table = static_cast<NameEntry*>(internal_alloc_zeroed(capacity * sizeof(NameEntry)));
  for (size_t i = 0; i < g_name_capacity; ++i) {
    const NameEntry& e = g_names[i];
    if (e.json != nullptr) *name_probe(table, capacity, e.object, e.kind) = e;
  }
  if (g_names != nullptr) internal_free(g_names, g_name_capacity * sizeof(NameEntry));
  g_names = table;
  g_name_capacity = capacity;
}

bool lock_kind_of(WaitKind kind, LockKind* out) {
  switch (kind) {
    case WaitKind::kMutex:
      *out = LockKind::kMutex;
      return true;
    case WaitKind::kRwRead:
      *out = LockKind::kRwRead;
      return true;
    case WaitKind::kRwWrite:
      *out = LockKind::kRwWrite;
      return true;
    case WaitKind::kCond:
      *out = LockKind::kCond;
      return true;
    case WaitKind::kSemaphore:
      *out = LockKind::kSemaphore;
      return true;
    case WaitKind::kSpin:
      *out = LockKind::kSpin;
      return true;
    default:
      return false;
  }
}

const char* short_kind(WaitKind kind) {
  switch (kind) {
    case WaitKind::kRwRead:
      return "rwlock read";
    case WaitKind::kRwWrite:
      return "rwlock write";
    case WaitKind::kIo:
      return "io";
    case WaitKind::kOnce:
      return "once";
    default:
      return wait_kind_name(kind);
  }
}

// The slice's name (short: the kind and the symbol, or the address) and its
// object as reports name it, into `out` as JSON text; the number of bytes.
// (Static: a thread's stack may be PTHREAD_STACK_MIN; the core runs one at a time.)
Text g_short, g_full, g_symbol;
size_t render_wait_json(char* out, WaitKind kind, const void* object) {
  Text& shortname = g_short;
  Text& full = g_full;
  shortname.len = full.len = 0;
  LockKind lock;
  const char* k = short_kind(kind);
  if (kind == WaitKind::kSleep || object == nullptr) {
    render(shortname, [&](Writer& w) { w.str(k); });
  } else if (kind == WaitKind::kJoin) {
    const auto* t = static_cast<const Thread*>(object);
    render(shortname, [&](Writer& w) { w.str("join thread ").dec(t->number); });
    render_named(full, [&](Writer& w) { write_thread_name(w, t); });
  } else if (lock_kind_of(kind, &lock)) {
    Text& symbol = g_symbol;
    bool global = false;
    render_named(symbol, [&](Writer& w) { global = write_lock_symbol(w, object); });
    render_named(full, [&](Writer& w) { write_lock_name(w, object, lock); });
    size_t n = symbol.len;
    for (size_t i = 0; global && i + 1 < symbol.len; ++i) {
      if (symbol.text[i] == ' ' && symbol.text[i + 1] == '(') {
        n = i;
        break;
      }
    }
    render(shortname, [&](Writer& w) {
      w.str(k).chr(' ');
      if (global) {
        for (size_t i = 0; i < n; ++i) w.chr(symbol.text[i]);
      } else {
        w.hex(reinterpret_cast<uintptr_t>(object));
      }
    });
  } else {
    render(shortname,
           [&](Writer& w) { w.str(k).chr(' ').hex(reinterpret_cast<uintptr_t>(object)); });
  }
  char* p = out;
  p = put(p, "\"name\":\"");
  p = put_escaped(p, shortname.text, shortname.len);
  p = put(p, "\",\"args\":{\"kind\":\"");
  p = put_escaped(p, wait_kind_name(kind));
  p = put(p, "\"");
  if (full.len != 0) {
    p = put(p, ",\"object\":\"");
    p = put_escaped(p, full.text, full.len);
    p = put(p, "\"");
  }
  if (object != nullptr && kind != WaitKind::kJoin) {
    Text& address = g_symbol;
    render(address, [&](Writer& w) { w.hex(reinterpret_cast<uintptr_t>(object)); });
    p = put(p, ",\"address\":\"");
    p = put(p, address.text, address.len);
    p = put(p, "\"");
  }
  return static_cast<size_t>(p - out);
}

// A join's target or a sleep changes from wait to wait, or names nothing
// worth keeping; the others are kept.
bool name_is_kept(WaitKind kind, const void* object) {
  return object != nullptr && kind != WaitKind::kJoin && kind != WaitKind::kSleep;
}

char* put_wait_json(char* p, WaitKind kind, const void* object) {
  if (!name_is_kept(kind, object)) return p + render_wait_json(p, kind, object);
  if (g_name_count * 2 >= g_name_capacity) {
    if (g_name_capacity >= kMaxNames) return p + render_wait_json(p, kind, object);
    grow_names();
  }
  NameEntry* e = name_probe(g_names, g_name_capacity, object, kind);
  if (e->json == nullptr) {
    static char json[kEventMax];
    size_t len = render_wait_json(json, kind, object);
    e->json = static_cast<char*>(internal_alloc_zeroed(len));
    memcpy(e->json, json, len);
    e->len = static_cast<uint32_t>(len);
    e->object = object;
    e->kind = kind;
    ++g_name_count;
  }
  return put(p, e->json, e->len);
}

// ---- events ----------------------------------------------------------------------------------
// A slice's time stamp and duration (`ts` written up to its value). It ends
// 1 ns before `end`: the next slice of the track starts at `end`, and a
// viewer that adds ts and dur in floating point (speedscope does) could find
// the sum past that start by a rounding, take the next slice for a nested
// one and nest every later slice of the track deeper still.
char* put_span(char* p, uint64_t since, uint64_t end) {
  p = put_stamp(p, since);
  p = put(p, ",\"dur\":");
  return put_us(p, end > since ? end - since - 1 : 0);
}

// A running slice of t up to `end_ns`, without its closing `}`.
char* put_running(char* p, const Thread* t, uint64_t end_ns) {
  p = put_head(p, 'X', t->number);
  p = put(p, ",\"name\":\"running\",\"ts\":");
  return put_span(p, t->trace_running_since, end_ns);
}

char* put_instant(char* p, uint64_t tid, uint64_t ns, const char* name, const char* prefix = "") {
  p = put_head(p, 'i', tid);
  p = put(p, ",\"s\":\"t\",\"ts\":");
  p = put_stamp(p, ns);
  p = put(p, ",\"name\":\"");
  p = put_escaped(p, prefix);
  p = put_escaped(p, name);
  return put(p, "\"");
}

void write_thread_metadata(Thread* t) {
  Text& name = g_full;
  render_named(name, [&](Writer& w) { write_thread_name(w, t); });
  char* p = trace_reserve(kEventMax);
  if (p == nullptr) return;
  p = put_head(p, 'M', t->number);
  p = put(p, ",\"name\":\"thread_name\",\"args\":{\"name\":\"");
  p = put_escaped(p, name.text, name.len);
  p = put(p, "\"}},\n");
  p = put_head(p, 'M', t->number);
  p = put(p, ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":");
  p = put_dec(p, t->number);
  p = put(p, "}},\n");
  commit_event(p);
}

bool in_wait(const Thread* t) {
  return t->wait_kind != WaitKind::kNone && t->trace_waiting_since != 0;
}

// `"end":"exit"`, `"end":"signal 11"`.
char* put_end(char* p, const char* why, int sig) {
  if (p[-1] != '{') *p++ = ',';
  p = put(p, "\"end\":\"");
  p = put(p, why, strlen(why));
  if (sig != 0) {
    p = put(p, " ");
    p = put_dec(p, static_cast<uint64_t>(sig));
  }
  return put(p, "\"");
}

bool g_finished;

void last_words(int sig) { trace_finish("signal", sig); }

// The file: this one unless another live process writes it (the lock is
// held); then FILE.<pid>, said once on stderr. -1: none.
int take_file(int fd, const char* path) {
  if (arch::raw_syscall(SYS_flock, fd, LOCK_EX | LOCK_NB) == 0) {
    arch::raw_syscall(SYS_ftruncate, fd, 0);
    return fd;
  }
  arch::raw_syscall(SYS_close, fd);
  static char own[4096 + 24];
  size_t n = strlen(path);
  if (n > 4096) return -1;
  char* p = put(own, path, n);
  *p++ = '.';
  p = put_dec(p, static_cast<uint64_t>(g_pid));
  *p = '\0';
  long f = arch::raw_syscall(SYS_open, reinterpret_cast<long>(own),
                             O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  Writer w;
  w.str("ptshim: PTSHIM_TRACE=").str(path).str(" is being written by another process; ");
  if (f < 0) {
    w.str("no trace: ").str(own).str(" cannot be created\n");
    return -1;
  }
  w.str("this one (pid ").dec(static_cast<uint64_t>(g_pid)).str(") writes ").str(own).chr('\n');
  arch::raw_syscall(SYS_flock, f, LOCK_EX | LOCK_NB);
  return static_cast<int>(f);
}

// /proc/self/comm, for the process's track.
void read_comm(Text& out) {
  out.len = 0;
  long fd =
      arch::raw_syscall(SYS_open, reinterpret_cast<long>("/proc/self/comm"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  long n = arch::raw_syscall(SYS_read, fd, reinterpret_cast<long>(out.text), sizeof out.text);
  arch::raw_syscall(SYS_close, fd);
  if (n <= 0) return;
  out.len = static_cast<size_t>(n);
  while (out.len > 0 && out.text[out.len - 1] == '\n') --out.len;
}
}  // namespace

void trace_start(Thread* first) {
  g_pid = arch::raw_syscall(SYS_getpid);
  char* q = put(g_pid_text, "\"pid\":");
  q = put_dec(q, static_cast<uint64_t>(g_pid));
  g_pid_len = static_cast<size_t>(q - g_pid_text);
  int fd = take_file(options().trace_fd, options().trace_path);
  if (fd < 0 || !trace_writer_open(fd)) {
    if (fd >= 0) Writer().str("ptshim: PTSHIM_TRACE: the trace file cannot grow; no trace\n");
    return;
  }
  clock_start();
  Text& comm = g_full;
  read_comm(comm);
  char* p = trace_reserve(kEventMax);
  p = put(p, "[\n");
  p = put_head(p, 'M', first->number);
  p = put(p, ",\"name\":\"process_name\",\"args\":{\"name\":\"");
  p = put_escaped(p, comm.text, comm.len);
  p = put(p, " (ptshim, one kernel thread)\"}},\n");
  commit_event(p);
  write_thread_metadata(first);
  first->trace_running_since = clock_ns(arch::cycle_counter());
  g_observe |= kObserveTrace;
  g_last_words = last_words;
}

void trace_switch(Thread* from, Thread* to, SwitchWhy why, SchedPoint point, uint64_t now) {
  uint64_t ns = clock_ns(now);
  char* p = trace_reserve(kEventMax);
  if (p == nullptr) return;
  // A thread that blocked or exited stopped running at its observe_stop
  // (see the top).
  bool stopped = why == SwitchWhy::kBlock || why == SwitchWhy::kExit;
  p = put_running(p, from, stopped ? from->trace_waiting_since : ns);
  p = put(p, "},\n");
  if (why == SwitchWhy::kPreempt) {
    p = put_instant(p, from->number, ns, sched_point_name(point), "preempted at ");
    p = put(p, "},\n");
  } else if (why == SwitchWhy::kPriority) {
    p = put_instant(p, from->number, ns, "made way for a higher priority");
    p = put(p, "},\n");
  }
  commit_event(p);
  to->trace_running_since = ns;
}

void trace_deferred(DeferredFate fate, uint64_t deferred_at, uint64_t now) {
  char* p = trace_reserve(kEventMax);
  if (p == nullptr) return;
  p = put_instant(p, current()->number, clock_ns(deferred_at), "tick deferred");
  if (fate == DeferredFate::kTaken) {
    p = put(p, ",\"args\":{\"fate\":\"taken at a safe point after ");
    p = put_us(p, clock_ns(now) - clock_ns(deferred_at));
    p = put(p, " us\"}},\n");
  } else {
    p = put(p, ",\"args\":{\"fate\":\"overtaken by the thread's own switch\"}},\n");
  }
  commit_event(p);
}

void trace_stop(Thread* self, uint64_t now) {
  uint64_t ns = clock_ns(now);
  self->trace_waiting_since = ns;
  const Thread* holder = nullptr;
  LockKind lock;
  if (lock_kind_of(self->wait_kind, &lock) || self->wait_kind == WaitKind::kJoin) {
    holder = holder_of(self->wait_kind, self->wait_object);
  }
  self->trace_holder = holder != nullptr ? holder->number : 0;
  if (holder == nullptr || self->wait_kind == WaitKind::kJoin) return;
  // Contention: the lock is held by another thread.
  char* p = trace_reserve(kEventMax);
  if (p == nullptr) return;
  p = put_head(p, 'i', self->number);
  p = put(p, ",\"s\":\"t\",\"ts\":");
  p = put_stamp(p, ns);
  p = put(p, ",\"cat\":\"contention\",");
  // The name, prefixed: `"name":"contended mutex accounts"`.
  static char json[kEventMax];
  auto len = static_cast<size_t>(put_wait_json(json, self->wait_kind, self->wait_object) - json);
  constexpr size_t kNameKey = sizeof "\"name\":\"" - 1;
  p = put(p, "\"name\":\"contended ");
  p = put(p, json + kNameKey, len - kNameKey);
  p = put(p, ",\"holder\":\"thread ");
  p = put_dec(p, holder->number);
  p = put(p, "\"}},\n");
  commit_event(p);
}

namespace {
// t's wait slice up to `end_ns`; `end`, `sig`: it was still under way at the
// end (args.end says which).
char* put_wait(char* p, const Thread* t, uint64_t end_ns, const char* end, int sig) {
  p = put_head(p, 'X', t->number);
  p = put(p, ",\"ts\":");
  p = put_span(p, t->trace_waiting_since, end_ns);
  p = put(p, ",\"cat\":\"wait\",");
  p = put_wait_json(p, t->wait_kind, t->wait_object);
  if (t->trace_holder != 0) {
    p = put(p, ",\"holder\":\"thread ");
    p = put_dec(p, t->trace_holder);
    p = put(p, "\"");
  }
  if (end != nullptr) p = put_end(p, end, sig);
  return put(p, "}},\n");
}
}  // namespace

void trace_wait_end(Thread* t, uint64_t now) {
  uint64_t ns = clock_ns(now);
  char* p = trace_reserve(kEventMax);
  if (p == nullptr) return;
  bool switched = t != current();
  if (!switched) {
    // Nothing else ran: its running slice stops at the block, and a new one
    // starts now.
    p = put_running(p, t, t->trace_waiting_since);
    p = put(p, ",\"args\":{\"end\":\"waited, no other thread ran\"}},\n");
    t->trace_running_since = ns;
  }
  p = put_wait(p, t, ns, nullptr, 0);
  commit_event(p);
  t->trace_waiting_since = 0;  // no wait under way (trace_finish)
}

void trace_thread_created(Thread* t, uint64_t now) {
  uint64_t ns = clock_ns(now);
  write_thread_metadata(t);
  Text& name = g_full;
  Text& site = g_symbol;
  render_named(name, [&](Writer& w) { write_thread_name(w, t); });
  render_named(site, [&](Writer& w) {
    write_site(w, t->creation_site != 0 ? t->creation_site : t->created_at);
  });
  char* p = trace_reserve(kEventMax);
  if (p == nullptr) return;
  p = put_head(p, 'i', current()->number);
  p = put(p, ",\"s\":\"t\",\"ts\":");
  p = put_stamp(p, ns);
  p = put(p, ",\"name\":\"create thread ");
  p = put_dec(p, t->number);
  p = put(p, "\",\"args\":{\"thread\":\"");
  p = put_escaped(p, name.text, name.len);
  p = put(p, "\",\"site\":\"");
  p = put_escaped(p, site.text, site.len);
  p = put(p, "\"}},\n");
  commit_event(p);
}

// args.how: "returned" (from its start routine), "cancelled", or "exited"
// with args.site, the program's call of pthread_exit or thrd_exit.
void trace_thread_exit(Thread* self, uint64_t now) {
  uint64_t ns = clock_ns(now);
  bool called = self->unwinding && self->exit_called_at != 0;
  Text& site = g_symbol;
  if (called) render_named(site, [&](Writer& w) { write_site(w, self->exit_called_at); });
  char* p = trace_reserve(kEventMax);
  if (p == nullptr) return;
  p = put_instant(p, self->number, ns, "exit");
  if (called) {
    p = put(p, ",\"args\":{\"how\":\"exited\",\"site\":\"");
    p = put_escaped(p, site.text, site.len);
    p = put(p, "\"}},\n");
  } else if (self->unwinding) {
    p = put(p, ",\"args\":{\"how\":\"cancelled\"}},\n");
  } else {
    p = put(p, ",\"args\":{\"how\":\"returned\"}},\n");
  }
  commit_event(p);
}

void trace_thread_renamed(Thread* t) {
  if (trace_on()) write_thread_metadata(t);
}

void trace_finish(const char* why, int sig) {
  if (!trace_on() || g_finished) return;
  g_finished = true;
  g_observe &= static_cast<uint8_t>(~kObserveTrace);
  g_last_words = nullptr;
  uint64_t ns = clock_ns(arch::cycle_counter());
  char* p = trace_reserve(kEventMax);
  if (p != nullptr) {
    // The waits still under way: a deadlock's (the running thread's too, in
    // the idle path), a crash's bystanders'.
    // (A wait kind set without a wait stamp is a report's look before a
    // block, deadlock_cycle.cc: no wait yet.)
    for (const Thread* t = all_threads_head(); t != nullptr; t = t->all_next) {
      if (!in_wait(t)) continue;
      p = put_wait(p, t, ns, why, sig);
      commit_event(p);
      p = trace_reserve(kEventMax);
      if (p == nullptr) break;
    }
  }
  if (p != nullptr) {
    const Thread* self = current();
    p = put_running(p, self, in_wait(self) ? self->trace_waiting_since : ns);
    p = put(p, ",\"args\":{");
    p = put_end(p, why, sig);
    p = put(p, "}}\n]\n");
    commit_event(p);
  }
  trace_writer_close();
}

void trace_after_fork_in_child() {
  if (!trace_on()) return;
  g_observe &= static_cast<uint8_t>(~kObserveTrace);
  g_last_words = nullptr;
  trace_writer_forget();
}

}  // namespace ptshim
