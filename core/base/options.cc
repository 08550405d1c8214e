// Options from the environment, read once before the program runs. Each
// PTSHIM_* variable has one parser; a bad value stops the program with one
// line naming the variable and the value, and exit status 2.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/base/base.h"

namespace ptshim {

namespace {
Options g_options;

constexpr uint64_t kDefaultTimesliceNs = 10'000'000;
constexpr uint64_t kMinTimesliceNs = 20'000;
constexpr uint64_t kMaxTimesliceNs = 10'000'000'000;
constexpr size_t kMinStack = 16384;  // PTHREAD_STACK_MIN
constexpr size_t kMaxStack = size_t{1} << 40;
constexpr size_t kFallbackStack = size_t{8} << 20;
// PCT's k when the run's length is not known: explore passes the first
// run's count of scheduling points instead.
constexpr uint64_t kPctDefaultSteps = 1000;

// Digits, optionally a fraction, then a unit from `units` (scale in ns or
// bytes). Returns false on any other text or overflow.
struct Unit {
  const char* suffix;
  uint64_t scale;
};

bool parse_scaled(const char* text, const Unit* units, size_t unit_count, bool unit_required,
                  uint64_t* out) {
  const char* p = text;
  uint64_t whole = 0;
  int digits = 0;
  for (; *p >= '0' && *p <= '9'; ++p, ++digits) {
    if (whole > (UINT64_MAX - 9) / 10) return false;
    whole = whole * 10 + static_cast<uint64_t>(*p - '0');
  }
  uint64_t frac = 0, frac_div = 1;
  if (*p == '.') {
    for (++p; *p >= '0' && *p <= '9'; ++p, ++digits) {
      if (frac_div < kNsPerSec) {
        frac = frac * 10 + static_cast<uint64_t>(*p - '0');
        frac_div *= 10;
      }
    }
  }
  if (digits == 0) return false;
  uint64_t scale = 0;
  if (*p == '\0') {
    if (unit_required && !(whole == 0 && frac == 0)) return false;
    scale = 1;
  } else {
    for (size_t i = 0; i < unit_count; ++i) {
      if (strcasecmp(p, units[i].suffix) == 0) scale = units[i].scale;
    }
    if (scale == 0) return false;
  }
  if (whole != 0 && scale > UINT64_MAX / whole) return false;
  uint64_t fraction = frac * scale / frac_div;
  if (whole * scale > UINT64_MAX - fraction) return false;
  *out = whole * scale + fraction;
  return true;
}

const char* parse_timeslice(const char* value, Options* o) {
  static const Unit kUnits[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", kNsPerSec}};
  uint64_t ns;
  if (!parse_scaled(value, kUnits, 4, true, &ns)) {
    return "not a duration (examples: 10ms, 500us, 0 = cooperative)";
  }
  if (ns != 0 && (ns < kMinTimesliceNs || ns > kMaxTimesliceNs)) {
    return "out of range (20us to 10s, or 0 = cooperative)";
  }
  o->timeslice_ns = ns;
  return nullptr;
}

const char* parse_stack_size(const char* value, Options* o) {
  static const Unit kUnits[] = {{"k", size_t{1} << 10},  {"m", size_t{1} << 20},
                                {"g", size_t{1} << 30},  {"kb", size_t{1} << 10},
                                {"mb", size_t{1} << 20}, {"gb", size_t{1} << 30}};
  uint64_t bytes;
  if (!parse_scaled(value, kUnits, 6, false, &bytes)) {
    return "not a size (examples: 256k, 8m, 65536)";
  }
  if (bytes < kMinStack || bytes > kMaxStack) return "out of range (16k to 1024g)";
  o->default_stack_size = bytes;
  return nullptr;
}

const char* parse_guarded_stacks(const char* value, Options* o) {
  if (strcmp(value, "auto") == 0) return nullptr;
  if (strcmp(value, "all") == 0) {
    o->guarded_stacks = SIZE_MAX;
    return nullptr;
  }
  constexpr uint64_t kMaxCount = uint64_t{1} << 40;  // far past any mapping limit
  uint64_t count = 0;
  const char* p = value;
  for (; *p >= '0' && *p <= '9' && count <= kMaxCount; ++p) count = count * 10 + (*p - '0');
  if (p == value || (*p != '\0' && (*p < '0' || *p > '9'))) {
    return "not a count of stacks (examples: auto, all, 0, 10000)";
  }
  if (*p != '\0' || count > kMaxCount) return "out of range (0 to 2^40, or all)";
  o->guarded_stacks = count;
  return nullptr;
}

// One of a few words, each meaning one value of a field.
template <typename T, size_t N>
bool parse_choice(const char* value, const char* const (&words)[N], const T (&values)[N], T* out) {
  for (size_t i = 0; i < N; ++i) {
    if (strcmp(value, words[i]) == 0) {
      *out = values[i];
      return true;
    }
  }
  return false;
}

const char* parse_tls(const char* value, Options* o) {
  if (parse_choice(value, {"per-thread", "shared"}, {false, true}, &o->shared_tls)) return nullptr;
  return "not a TLS mode (per-thread or shared)";
}

const char* parse_switch(const char* value, Options* o) {
  using enum arch::SwitchKind;
  if (parse_choice(value, {"fast", "ucontext"}, {kFast, kUcontext}, &o->switch_kind))
    return nullptr;
  return "not a context switch (fast or ucontext)";
}

const char* parse_report(const char* path, Options* o) {
  if (path[0] == '\0') return "empty path";
  long fd = arch::raw_syscall(SYS_open, reinterpret_cast<long>(path),
                              O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot be opened for appending";
  o->report_fd = static_cast<int>(fd);
  return nullptr;
}

// Opened here, so that a bad name is an option error; truncated only once
// core/sched holds its lock (trace.cc: another live process may write it).
const char* parse_trace(const char* path, Options* o) {
  if (path[0] == '\0') return "empty path";
  long fd =
      arch::raw_syscall(SYS_open, reinterpret_cast<long>(path), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd == -EISDIR) return "is a directory";
  if (fd < 0) return "cannot be created";
  o->trace_fd = static_cast<int>(fd);
  o->trace_path = path;
  return nullptr;
}

// A signal by name (QUIT, SIGUSR1, ...) among those a dump may sensibly use:
// not the faults, SIGALRM, or the ones that cannot be caught.
const char* parse_dump_signal(const char* value, Options* o) {
  struct Named {
    const char* name;
    int sig;
  };
  static const Named kSignals[] = {
      {"SIGQUIT", SIGQUIT}, {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGHUP", SIGHUP},
      {"SIGINT", SIGINT},   {"SIGTERM", SIGTERM}, {"SIGPWR", SIGPWR},   {"SIGWINCH", SIGWINCH}};
  bool prefixed = strncasecmp(value, "SIG", 3) == 0;
  for (const Named& n : kSignals) {
    if (strcasecmp(value, prefixed ? n.name : n.name + 3) == 0) {
      o->dump_signal = n.sig;
      o->dump_signal_name = n.name;
      return nullptr;
    }
  }
  return "not a signal for thread dumps (QUIT, USR1, USR2, HUP, INT, TERM, PWR, WINCH)";
}

const char* parse_deadlock(const char* value, Options* o) {
  using enum DeadlockMode;
  if (parse_choice(value, {"auto", "abort", "warn"}, {kAuto, kAbort, kWarn}, &o->deadlock)) {
    return nullptr;
  }
  return "not a deadlock action (auto, abort or warn)";
}

const char* parse_misuse(const char* value, Options* o) {
  using enum MisuseMode;
  if (parse_choice(value, {"warn", "abort", "off"}, {kWarn, kAbort, kOff}, &o->misuse)) {
    return nullptr;
  }
  return "not a misuse action (warn, abort or off)";
}

// An executable's path, or "none". Checked here, where a bad one can still
// be refused with exit status 2, not at the first report.
const char* parse_symbolizer(const char* value, Options* o) {
  if (strcmp(value, "none") == 0) {
    o->symbolizer = nullptr;
    o->symbolizer_off = true;
    return nullptr;
  }
  if (value[0] != '/') return "not an absolute path to a symbolizer, or none";
  struct stat st;
  if (arch::raw_syscall(SYS_stat, reinterpret_cast<long>(value), reinterpret_cast<long>(&st)) !=
          0 ||
      !S_ISREG(st.st_mode) ||
      arch::raw_syscall(SYS_access, reinterpret_cast<long>(value), X_OK) != 0) {
    return "not an executable file";
  }
  o->symbolizer = value;
  o->symbolizer_off = false;
  return nullptr;
}

// Absolute directories separated by colons, as gdb's debug-file-directory.
const char* parse_debug_file_directory(const char* value, Options* o) {
  for (const char* p = value;;) {
    if (*p != '/') return "not a list of absolute directories separated by colons";
    while (*p != '\0' && *p != ':') ++p;
    if (*p == '\0') break;
    ++p;
  }
  o->debug_file_directory = value;
  return nullptr;
}

const char* parse_sched(const char* value, Options* o) {
  if (strcmp(value, "fifo") == 0 || strcmp(value, "random") == 0) {
    o->sched = value[0] == 'f' ? SchedKind::kFifo : SchedKind::kRandom;
    o->sched_given = true;
    return nullptr;
  }
  if (strncmp(value, "pct", 3) != 0 || (value[3] != '\0' && value[3] != ':')) {
    return "not a scheduling policy (fifo, random, pct or pct:DEPTH)";
  }
  int depth = kPctDefaultDepth;
  if (value[3] == ':') {
    const char* p = value + 4;
    depth = 0;
    for (; *p >= '0' && *p <= '9' && depth <= kPctMaxDepth; ++p) depth = depth * 10 + (*p - '0');
    if (p == value + 4 || (*p != '\0' && (*p < '0' || *p > '9'))) {
      return "not a PCT depth (pct:1 to pct:32)";
    }
    if (*p != '\0' || depth < 1 || depth > kPctMaxDepth) return "PCT depth out of range (1 to 32)";
  }
  o->sched = SchedKind::kPct;
  o->sched_given = true;
  o->pct_depth = depth;
  return nullptr;
}

// A decimal count from 0 to UINT64_MAX, nothing else (no sign, no spaces).
bool parse_decimal(const char* value, uint64_t* out) {
  uint64_t n = 0;
  const char* p = value;
  for (; *p >= '0' && *p <= '9'; ++p) {
    uint64_t digit = static_cast<uint64_t>(*p - '0');
    if (n > (UINT64_MAX - digit) / 10) return false;
    n = n * 10 + digit;
  }
  if (p == value || *p != '\0') return false;
  *out = n;
  return true;
}

const char* parse_seed(const char* value, Options* o) {
  if (!parse_decimal(value, &o->seed)) return "not a seed (a decimal number, 0 to 2^64-1)";
  o->seed_given = true;
  return nullptr;
}

const char* parse_pct_steps(const char* value, Options* o) {
  uint64_t n;
  if (!parse_decimal(value, &n) || n == 0) return "not a count of scheduling points (1 or more)";
  o->pct_steps = n;
  return nullptr;
}

const char* parse_virtual_time(const char* value, Options* o) {
  if (parse_choice(value, {"0", "1"}, {int8_t{0}, int8_t{1}}, &o->virtual_time)) return nullptr;
  return "not 0 or 1";
}

// Preemption numbers for explore --minimize: "3,17,40" (1 is the run's first).
const char* parse_preemption_list(const char* value, const char** out) {
  const char* p = value;
  for (;;) {
    const char* start = p;
    uint64_t n = 0;
    for (; *p >= '0' && *p <= '9' && n < (uint64_t{1} << 40); ++p) n = n * 10 + (*p - '0');
    if (p == start || n == 0 || (*p >= '0' && *p <= '9')) {
      return "not a list of preemption numbers (e.g. 3,17,40)";
    }
    if (*p == '\0') break;
    if (*p++ != ',') return "not a list of preemption numbers (e.g. 3,17,40)";
  }
  *out = value;
  return nullptr;
}

// A 0-or-1 variable setting one field.
template <bool Options::*kField>
const char* parse_flag(const char* value, Options* o) {
  if (parse_choice(value, {"0", "1"}, {false, true}, &(o->*kField))) return nullptr;
  return "not 0 or 1";
}

// A list of preemption numbers (empty: none) setting one field.
template <const char* Options::*kField>
const char* parse_preemptions(const char* value, Options* o) {
  return value[0] == '\0' ? nullptr : parse_preemption_list(value, &(o->*kField));
}

struct Parser {
  const char* name;
  const char* (*parse)(const char* value, Options* o);
};
constexpr Parser kParsers[] = {
    {"PTSHIM_TIMESLICE", parse_timeslice},
    {"PTSHIM_STACK_SIZE", parse_stack_size},
    {"PTSHIM_GUARDED_STACKS", parse_guarded_stacks},
    {"PTSHIM_TLS", parse_tls},
    {"PTSHIM_SWITCH", parse_switch},
    {"PTSHIM_BACKTRACE", parse_flag<&Options::backtraces>},
    {"PTSHIM_REPORT", parse_report},
    {"PTSHIM_DUMP_SIGNAL", parse_dump_signal},
    {"PTSHIM_DEADLOCK", parse_deadlock},
    {"PTSHIM_SYMBOLIZER", parse_symbolizer},
    {"PTSHIM_MISUSE", parse_misuse},
    {"PTSHIM_LOCK_ORDER", parse_flag<&Options::lock_order>},
    {"PTSHIM_STATS", parse_flag<&Options::stats>},
    {"PTSHIM_TRACE", parse_trace},
    {"PTSHIM_DEBUG_FILE_DIRECTORY", parse_debug_file_directory},
    {"PTSHIM_SCHED", parse_sched},
    {"PTSHIM_SEED", parse_seed},
    {"PTSHIM_PCT_STEPS", parse_pct_steps},
    {"PTSHIM_VIRTUAL_TIME", parse_virtual_time},
    {"PTSHIM_SPURIOUS_WAKEUPS", parse_flag<&Options::spurious_wakeups>},
    {"PTSHIM_SCHEDULE_DIGEST", parse_flag<&Options::schedule_digest>},
    {"PTSHIM_PREEMPT_SKIP", parse_preemptions<&Options::preempt_skip>},
    {"PTSHIM_PREEMPT_SHOW", parse_preemptions<&Options::preempt_show>},
};

size_t default_stack_size() {
  // As glibc: the soft RLIMIT_STACK, or 8 MiB when it is unlimited.
  rlimit limit;
  if (getrlimit(RLIMIT_STACK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
      limit.rlim_cur < kMinStack) {
    return kFallbackStack;
  }
  return limit.rlim_cur;
}
}  // namespace

size_t option_count() { return sizeof kParsers / sizeof kParsers[0]; }
const char* option_name(size_t i) { return kParsers[i].name; }

Options default_options(size_t guarded_stacks) {
  Options o{};
  o.timeslice_ns = kDefaultTimesliceNs;
  o.default_stack_size = default_stack_size();
  o.guarded_stacks = guarded_stacks;
  o.shared_tls = false;
  o.switch_kind = arch::SwitchKind::kFast;
  o.backtraces = true;
  o.report_fd = -1;
  o.trace_fd = -1;
  o.dump_signal = SIGQUIT;
  o.dump_signal_name = "SIGQUIT";
  o.deadlock = DeadlockMode::kAuto;
  o.misuse = MisuseMode::kWarn;
  o.sched = SchedKind::kFifo;
  o.pct_depth = kPctDefaultDepth;
  o.virtual_time = -1;
  o.pct_steps = kPctDefaultSteps;
  return o;
}

const char* parse_option(const char* name, const char* value, Options* o) {
  for (const Parser& p : kParsers) {
    if (strcmp(p.name, name) == 0) return p.parse(value, o);
  }
  return nullptr;
}

const Options& options() { return g_options; }

bool virtual_time_on() { return g_options.virtual_time == 1; }

void settle_options(Options* o, uint64_t drawn_seed) {
  if (o->seed_given && !o->sched_given) {
    o->sched = SchedKind::kRandom;
  }
  if (o->sched != SchedKind::kFifo && !o->seed_given) o->seed = drawn_seed;
  o->seeded = o->sched != SchedKind::kFifo;
  if (o->virtual_time < 0) o->virtual_time = o->seeded ? 1 : 0;
  if (o->seeded) o->schedule_digest = true;
}

void parse_options_or_exit(size_t guarded_stacks) {
  g_options = default_options(guarded_stacks);
  for (const Parser& p : kParsers) {
    const char* value = getenv(p.name);
    if (value == nullptr) continue;
    if (const char* why = p.parse(value, &g_options)) {
      Writer().str("ptshim: ").str(p.name).chr('=').str(value).str(": ").str(why).chr('\n');
      exit_process_now(2);
    }
  }
  uint64_t drawn = 0;
  if (g_options.sched != SchedKind::kFifo && !g_options.seed_given) {
    // A seed of its own, printed at exit; the run can then be replayed.
    if (arch::raw_syscall(SYS_getrandom, reinterpret_cast<long>(&drawn), sizeof drawn, 0) !=
        sizeof drawn) {
      drawn = arch::cycle_counter();
    }
  }
  settle_options(&g_options, drawn);
}

}  // namespace ptshim
