// Unit tests of option parsing (options.cc): every accepted and rejected
// form of every PTSHIM_* variable, the texts that say why a value is bad,
// the defaults and the list of variables.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "core/base/base.h"
#include "core/testing/check.h"

using namespace ptshim;

namespace {

constexpr const char* kNotDuration = "not a duration (examples: 10ms, 500us, 0 = cooperative)";
constexpr const char* kTimesliceRange = "out of range (20us to 10s, or 0 = cooperative)";
constexpr const char* kNotSize = "not a size (examples: 256k, 8m, 65536)";
constexpr const char* kStackRange = "out of range (16k to 1024g)";
constexpr const char* kNotCount = "not a count of stacks (examples: auto, all, 0, 10000)";
constexpr const char* kCountRange = "out of range (0 to 2^40, or all)";
constexpr const char* kNotTls = "not a TLS mode (per-thread or shared)";
constexpr const char* kNotSwitch = "not a context switch (fast or ucontext)";
constexpr const char* kNot01 = "not 0 or 1";
constexpr const char* kNotSignal =
    "not a signal for thread dumps (QUIT, USR1, USR2, HUP, INT, TERM, PWR, WINCH)";

Options defaults() { return default_options(777); }

bool same(const Options& a, const Options& b) {
  return a.timeslice_ns == b.timeslice_ns && a.default_stack_size == b.default_stack_size &&
         a.guarded_stacks == b.guarded_stacks && a.shared_tls == b.shared_tls &&
         a.switch_kind == b.switch_kind && a.backtraces == b.backtraces &&
         a.report_fd == b.report_fd && a.dump_signal == b.dump_signal &&
         a.dump_signal_name == b.dump_signal_name && a.deadlock == b.deadlock &&
         a.sched == b.sched && a.sched_given == b.sched_given && a.pct_depth == b.pct_depth &&
         a.seeded == b.seeded && a.seed_given == b.seed_given && a.seed == b.seed &&
         a.virtual_time == b.virtual_time && a.spurious_wakeups == b.spurious_wakeups &&
         a.schedule_digest == b.schedule_digest && a.pct_steps == b.pct_steps &&
         a.preempt_skip == b.preempt_skip && a.preempt_show == b.preempt_show &&
         a.symbolizer == b.symbolizer && a.symbolizer_off == b.symbolizer_off &&
         a.misuse == b.misuse && a.lock_order == b.lock_order && a.stats == b.stats &&
         a.trace_fd == b.trace_fd && a.trace_path == b.trace_path;
}

// `value` is accepted; returns the options it gave (from the defaults). A
// good value changes only its own field.
#define ACCEPT(name, value, field, expected)                      \
  do {                                                            \
    Options o_ = defaults();                                      \
    const char* why_ = parse_option(name, value, &o_);            \
    if (CHECK_STREQ(why_, nullptr)) CHECK_EQ(o_.field, expected); \
    Options rest_ = o_;                                           \
    rest_.field = defaults().field;                               \
    CHECK(same(rest_, defaults()));                               \
  } while (0)

// `value` is rejected with `why`, leaving the options as they were.
#define REJECT(name, value, why)                      \
  do {                                                \
    Options o_ = defaults();                          \
    CHECK_STREQ(parse_option(name, value, &o_), why); \
    CHECK(same(o_, defaults()));                      \
  } while (0)

void test_option_list() {
  static const char* const kExpected[] = {"PTSHIM_TIMESLICE",
                                          "PTSHIM_STACK_SIZE",
                                          "PTSHIM_GUARDED_STACKS",
                                          "PTSHIM_TLS",
                                          "PTSHIM_SWITCH",
                                          "PTSHIM_BACKTRACE",
                                          "PTSHIM_REPORT",
                                          "PTSHIM_DUMP_SIGNAL",
                                          "PTSHIM_DEADLOCK",
                                          "PTSHIM_SYMBOLIZER",
                                          "PTSHIM_MISUSE",
                                          "PTSHIM_LOCK_ORDER",
                                          "PTSHIM_STATS",
                                          "PTSHIM_TRACE",
                                          "PTSHIM_DEBUG_FILE_DIRECTORY",
                                          "PTSHIM_SCHED",
                                          "PTSHIM_SEED",
                                          "PTSHIM_PCT_STEPS",
                                          "PTSHIM_VIRTUAL_TIME",
                                          "PTSHIM_SPURIOUS_WAKEUPS",
                                          "PTSHIM_SCHEDULE_DIGEST",
                                          "PTSHIM_PREEMPT_SKIP",
                                          "PTSHIM_PREEMPT_SHOW"};
  constexpr size_t n = sizeof kExpected / sizeof kExpected[0];
  CHECK_EQ(option_count(), n);
  for (size_t i = 0; i < n && i < option_count(); ++i) CHECK_STREQ(option_name(i), kExpected[i]);
}

void test_unknown_names() {
  Options o = defaults();
  CHECK_STREQ(parse_option("PTSHIM_NOPE", "whatever", &o), nullptr);
  CHECK_STREQ(parse_option("ptshim_timeslice", "garbage", &o), nullptr);  // names are exact
  CHECK_STREQ(parse_option("PTSHIM_TIMESLICE ", "garbage", &o), nullptr);
  CHECK_STREQ(parse_option("", "", &o), nullptr);
  CHECK(same(o, defaults()));
}

void test_defaults() {
  Options o = default_options(12345);
  CHECK_EQ(o.timeslice_ns, 10'000'000u);
  CHECK_EQ(o.guarded_stacks, 12345u);
  CHECK(!o.shared_tls);
  CHECK(o.switch_kind == arch::SwitchKind::kFast);
  CHECK(o.backtraces);
  CHECK_EQ(o.report_fd, -1);
  CHECK_EQ(o.dump_signal, SIGQUIT);
  CHECK_STREQ(o.dump_signal_name, "SIGQUIT");
  CHECK(o.deadlock == DeadlockMode::kAuto);
  CHECK(o.misuse == MisuseMode::kWarn);
  CHECK(o.symbolizer == nullptr && !o.symbolizer_off);
  CHECK(!o.lock_order && !o.stats);
  CHECK_EQ(default_options(SIZE_MAX).guarded_stacks, SIZE_MAX);

  // The stack size: the soft RLIMIT_STACK, 8 MiB when it is unlimited or
  // below 16k. Tried in a child, which may lower its own limit.
  rlimit limit;
  CHECK_EQ(getrlimit(RLIMIT_STACK, &limit), 0);
  size_t expected = limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur < 16384
                        ? size_t{8} << 20
                        : static_cast<size_t>(limit.rlim_cur);
  CHECK_EQ(o.default_stack_size, expected);
  struct Case {
    rlim_t soft;
    size_t expected;
  };
  const Case cases[] = {{size_t{1} << 20, size_t{1} << 20},
                        {16384, 16384},
                        {16383, size_t{8} << 20},
                        {(size_t{4} << 20) + 1, (size_t{4} << 20) + 1}};
  for (const Case& c : cases) {
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < c.soft) continue;
    pid_t pid = fork();
    if (pid == 0) {
      rlimit lower = limit;
      lower.rlim_cur = c.soft;
      if (setrlimit(RLIMIT_STACK, &lower) != 0) _exit(3);
      _exit(default_options(0).default_stack_size == c.expected ? 0 : 1);
    }
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      printf("  RLIMIT_STACK soft %llu: child status %d\n", static_cast<unsigned long long>(c.soft),
             status);
    }
  }
}

void test_timeslice() {
  const char* n = "PTSHIM_TIMESLICE";
  ACCEPT(n, "10ms", timeslice_ns, 10'000'000u);
  ACCEPT(n, "500us", timeslice_ns, 500'000u);
  ACCEPT(n, "1.5ms", timeslice_ns, 1'500'000u);
  ACCEPT(n, "0.5s", timeslice_ns, 500'000'000u);
  ACCEPT(n, "2s", timeslice_ns, 2'000'000'000u);
  ACCEPT(n, "250000ns", timeslice_ns, 250'000u);
  ACCEPT(n, "0.25ms", timeslice_ns, 250'000u);
  ACCEPT(n, "1.000001ms", timeslice_ns, 1'000'001u);
  ACCEPT(n, ".5ms", timeslice_ns, 500'000u);    // no whole part
  ACCEPT(n, "5.ms", timeslice_ns, 5'000'000u);  // no fraction digits
  ACCEPT(n, "007ms", timeslice_ns, 7'000'000u);
  // Units are case-insensitive.
  ACCEPT(n, "10MS", timeslice_ns, 10'000'000u);
  ACCEPT(n, "10Ms", timeslice_ns, 10'000'000u);
  ACCEPT(n, "500US", timeslice_ns, 500'000u);
  ACCEPT(n, "1S", timeslice_ns, 1'000'000'000u);
  ACCEPT(n, "20000NS", timeslice_ns, 20'000u);
  // Digits past nanoseconds are ignored.
  ACCEPT(n, "1.0000000009s", timeslice_ns, 1'000'000'000u);
  // 0, with or without a unit: cooperative.
  ACCEPT(n, "0", timeslice_ns, 0u);
  ACCEPT(n, "00", timeslice_ns, 0u);
  ACCEPT(n, "0.0", timeslice_ns, 0u);
  ACCEPT(n, "0ms", timeslice_ns, 0u);
  ACCEPT(n, "0s", timeslice_ns, 0u);
  ACCEPT(n, "0.000us", timeslice_ns, 0u);
  // The limits.
  ACCEPT(n, "20us", timeslice_ns, 20'000u);
  ACCEPT(n, "20000ns", timeslice_ns, 20'000u);
  ACCEPT(n, "0.02ms", timeslice_ns, 20'000u);
  ACCEPT(n, "10s", timeslice_ns, 10'000'000'000u);
  ACCEPT(n, "10000ms", timeslice_ns, 10'000'000'000u);
  ACCEPT(n, "10.000000000s", timeslice_ns, 10'000'000'000u);

  REJECT(n, "19us", kTimesliceRange);
  REJECT(n, "19999ns", kTimesliceRange);
  REJECT(n, "0.019999ms", kTimesliceRange);
  REJECT(n, "1ns", kTimesliceRange);
  REJECT(n, "10.000000001s", kTimesliceRange);
  REJECT(n, "10001ms", kTimesliceRange);
  REJECT(n, "11s", kTimesliceRange);
  REJECT(n, "18446744073s", kTimesliceRange);  // the largest whole seconds that fit
  REJECT(n, "18446744073709551609ns", kTimesliceRange);

  // A nonzero value needs a unit.
  REJECT(n, "10", kNotDuration);
  REJECT(n, "1.5", kNotDuration);
  REJECT(n, "20000", kNotDuration);
  REJECT(n, "0.1", kNotDuration);
  // Other text.
  REJECT(n, "", kNotDuration);
  REJECT(n, "ms", kNotDuration);
  REJECT(n, ".", kNotDuration);
  REJECT(n, ".ms", kNotDuration);
  REJECT(n, "-1ms", kNotDuration);
  REJECT(n, "+1ms", kNotDuration);
  REJECT(n, " 10ms", kNotDuration);
  REJECT(n, "10 ms", kNotDuration);
  REJECT(n, "10ms ", kNotDuration);
  REJECT(n, "10msx", kNotDuration);
  REJECT(n, "10m", kNotDuration);  // a stack-size unit, not a duration
  REJECT(n, "10min", kNotDuration);
  REJECT(n, "10sec", kNotDuration);
  REJECT(n, "1e3ms", kNotDuration);
  REJECT(n, "1,5ms", kNotDuration);
  REJECT(n, "1.5.0ms", kNotDuration);
  REJECT(n, "0x10ms", kNotDuration);
  REJECT(n, "cooperative", kNotDuration);
  // Overflow: of the digits, or of the digits times the unit.
  REJECT(n, "99999999999999999999ns", kNotDuration);
  REJECT(n, "18446744073709551615ns", kNotDuration);
  REJECT(n, "18446744074s", kNotDuration);
  REJECT(n, "20000000000000000ms", kNotDuration);
  REJECT(n, "99999999999999999999999999999999s", kNotDuration);

  // Overflow of whole * unit + fraction * unit: 18446744073.9s is
  // 18446744073900000000 ns, past UINT64_MAX (it must not wrap to 190 ms).
  {
    Options o = defaults();
    const char* why = parse_option(n, "18446744073.9s", &o);
    CHECK(why != nullptr);
    o = defaults();
    why = parse_option(n, "18446744073709.9ms", &o);
    CHECK(why != nullptr);
  }
}

void test_stack_size() {
  const char* n = "PTSHIM_STACK_SIZE";
  ACCEPT(n, "256k", default_stack_size, 256u << 10);
  ACCEPT(n, "8m", default_stack_size, 8u << 20);
  ACCEPT(n, "1g", default_stack_size, size_t{1} << 30);
  ACCEPT(n, "256kb", default_stack_size, 256u << 10);
  ACCEPT(n, "8mb", default_stack_size, 8u << 20);
  ACCEPT(n, "2gb", default_stack_size, size_t{2} << 30);
  ACCEPT(n, "256K", default_stack_size, 256u << 10);
  ACCEPT(n, "8M", default_stack_size, 8u << 20);
  ACCEPT(n, "1G", default_stack_size, size_t{1} << 30);
  ACCEPT(n, "256KB", default_stack_size, 256u << 10);
  ACCEPT(n, "8Mb", default_stack_size, 8u << 20);
  ACCEPT(n, "2gB", default_stack_size, size_t{2} << 30);
  ACCEPT(n, "65536", default_stack_size, 65536u);  // plain bytes
  ACCEPT(n, "100000", default_stack_size, 100000u);
  ACCEPT(n, "1.5m", default_stack_size, 1572864u);
  ACCEPT(n, "0.5g", default_stack_size, size_t{512} << 20);
  ACCEPT(n, "16.5k", default_stack_size, 16896u);
  ACCEPT(n, "16384.9", default_stack_size, 16384u);  // a fraction of a byte is dropped
  // The limits.
  ACCEPT(n, "16k", default_stack_size, 16384u);
  ACCEPT(n, "16384", default_stack_size, 16384u);
  ACCEPT(n, "1024g", default_stack_size, size_t{1} << 40);
  ACCEPT(n, "1048576m", default_stack_size, size_t{1} << 40);
  ACCEPT(n, "1099511627776", default_stack_size, size_t{1} << 40);

  REJECT(n, "16383", kStackRange);
  REJECT(n, "15k", kStackRange);
  REJECT(n, "15.99k", kStackRange);
  REJECT(n, "0", kStackRange);
  REJECT(n, "0k", kStackRange);
  REJECT(n, "1099511627777", kStackRange);
  REJECT(n, "1025g", kStackRange);
  REJECT(n, "1024.001g", kStackRange);
  REJECT(n, "17179869183g", kStackRange);  // the most gigabytes that fit
  REJECT(n, "18446744073709551609", kStackRange);

  REJECT(n, "", kNotSize);
  REJECT(n, "k", kNotSize);
  REJECT(n, "8b", kNotSize);
  REJECT(n, "8kib", kNotSize);
  REJECT(n, "8mib", kNotSize);
  REJECT(n, "8t", kNotSize);
  REJECT(n, "8tb", kNotSize);
  REJECT(n, "8 m", kNotSize);
  REJECT(n, " 8m", kNotSize);
  REJECT(n, "8m ", kNotSize);
  REJECT(n, "-8m", kNotSize);
  REJECT(n, "+8m", kNotSize);
  REJECT(n, "8mm", kNotSize);
  REJECT(n, "8ms", kNotSize);
  REJECT(n, "0x10000", kNotSize);
  REJECT(n, "1e6", kNotSize);
  REJECT(n, "big", kNotSize);
  REJECT(n, "99999999999999999999", kNotSize);
  REJECT(n, "18446744073709551615", kNotSize);
  REJECT(n, "17179869184g", kNotSize);
  REJECT(n, "18014398509481984m", kNotSize);
}

void test_guarded_stacks() {
  const char* n = "PTSHIM_GUARDED_STACKS";
  ACCEPT(n, "auto", guarded_stacks, 777u);  // keeps the default given to default_options
  ACCEPT(n, "all", guarded_stacks, SIZE_MAX);
  ACCEPT(n, "0", guarded_stacks, 0u);
  ACCEPT(n, "1", guarded_stacks, 1u);
  ACCEPT(n, "10000", guarded_stacks, 10000u);
  ACCEPT(n, "007", guarded_stacks, 7u);
  ACCEPT(n, "1099511627776", guarded_stacks, size_t{1} << 40);  // 2^40

  REJECT(n, "1099511627777", kCountRange);
  REJECT(n, "2000000000000", kCountRange);
  REJECT(n, "99999999999999999999999999", kCountRange);  // no overflow
  REJECT(n, "", kNotCount);
  REJECT(n, "Auto", kNotCount);
  REJECT(n, "AUTO", kNotCount);
  REJECT(n, "All", kNotCount);
  REJECT(n, "none", kNotCount);
  REJECT(n, "-1", kNotCount);
  REJECT(n, "+1", kNotCount);
  REJECT(n, " 1", kNotCount);
  REJECT(n, "1 ", kNotCount);
  REJECT(n, "10k", kNotCount);
  REJECT(n, "1.5", kNotCount);
  REJECT(n, "0x10", kNotCount);
}

void test_tls_switch_backtrace() {
  ACCEPT("PTSHIM_TLS", "per-thread", shared_tls, false);
  ACCEPT("PTSHIM_TLS", "shared", shared_tls, true);
  {
    Options o = defaults();
    o.shared_tls = true;
    CHECK_STREQ(parse_option("PTSHIM_TLS", "per-thread", &o), nullptr);
    CHECK(!o.shared_tls);
  }
  for (const char* bad : {"", "Shared", "SHARED", "per_thread", "perthread", "shared ", "1"}) {
    REJECT("PTSHIM_TLS", bad, kNotTls);
  }

  ACCEPT("PTSHIM_SWITCH", "fast", switch_kind, arch::SwitchKind::kFast);
  ACCEPT("PTSHIM_SWITCH", "ucontext", switch_kind, arch::SwitchKind::kUcontext);
  for (const char* bad : {"", "Fast", "FAST", "UCONTEXT", "slow", "fast ", "0"}) {
    REJECT("PTSHIM_SWITCH", bad, kNotSwitch);
  }

  ACCEPT("PTSHIM_BACKTRACE", "0", backtraces, false);
  ACCEPT("PTSHIM_BACKTRACE", "1", backtraces, true);
  {
    Options o = defaults();
    o.backtraces = false;
    CHECK_STREQ(parse_option("PTSHIM_BACKTRACE", "1", &o), nullptr);
    CHECK(o.backtraces);
  }
  for (const char* bad : {"", "2", "00", "01", "yes", "no", "true", "off", " 0", "0 "}) {
    REJECT("PTSHIM_BACKTRACE", bad, kNot01);
  }
}

// PTSHIM_TRACE: opened for writing, created, not truncated (trace.cc does
// that once it holds the file's lock).
void test_trace() {
  const char* n = "PTSHIM_TRACE";
  REJECT(n, "", "empty path");
  REJECT(n, "/nonexistent-ptshim-dir/trace.json", "cannot be created");
  char dir[] = "/tmp/ptshim-options-test-XXXXXX";
  if (!CHECK(mkdtemp(dir) != nullptr)) return;
  REJECT(n, dir, "is a directory");
  char path[sizeof dir + 16];
  snprintf(path, sizeof path, "%s/trace.json", dir);
  int pre = open(path, O_WRONLY | O_CREAT, 0644);
  CHECK(pre >= 0 && write(pre, "old", 3) == 3);
  close(pre);
  Options o = defaults();
  CHECK_STREQ(parse_option(n, path, &o), nullptr);
  CHECK(o.trace_fd > 2);
  CHECK(o.trace_path == path);
  if (o.trace_fd > 2) {
    CHECK((fcntl(o.trace_fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    CHECK((fcntl(o.trace_fd, F_GETFD) & FD_CLOEXEC) != 0);
    struct stat st;
    CHECK(fstat(o.trace_fd, &st) == 0 && st.st_size == 3);
    close(o.trace_fd);
  }
  unlink(path);
  rmdir(dir);
}

void test_report() {
  const char* n = "PTSHIM_REPORT";
  REJECT(n, "", "empty path");
  REJECT(n, "/nonexistent-ptshim-dir/report.txt", "cannot be opened for appending");

  char dir[] = "/tmp/ptshim-options-test-XXXXXX";
  if (!CHECK(mkdtemp(dir) != nullptr)) return;
  REJECT(n, dir, "cannot be opened for appending");  // a directory

  char path[sizeof dir + 16];
  snprintf(path, sizeof path, "%s/report.txt", dir);
  Options o = defaults();
  CHECK_STREQ(parse_option(n, path, &o), nullptr);
  int fd = o.report_fd;
  CHECK(fd > 2);
  Options rest = o;
  rest.report_fd = -1;
  CHECK(same(rest, defaults()));
  if (fd > 2) {
    int flags = fcntl(fd, F_GETFL);
    CHECK((flags & O_ACCMODE) == O_WRONLY);
    CHECK((flags & O_APPEND) != 0);
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0133) == 0);
    CHECK_EQ(write(fd, "one\n", 4), 4);
    close(fd);
    // An existing file is appended to, not truncated.
    o = defaults();
    CHECK_STREQ(parse_option(n, path, &o), nullptr);
    if (o.report_fd > 2) {
      CHECK_EQ(write(o.report_fd, "two\n", 4), 4);
      close(o.report_fd);
    }
    char buf[32] = {};
    int rfd = open(path, O_RDONLY);
    CHECK(rfd >= 0);
    if (rfd >= 0) {
      CHECK_EQ(read(rfd, buf, sizeof buf - 1), 8);
      close(rfd);
    }
    CHECK_STREQ(buf, "one\ntwo\n");
  }
  // A file that may not be written.
  char readonly[sizeof dir + 16];
  snprintf(readonly, sizeof readonly, "%s/readonly.txt", dir);
  int rofd = open(readonly, O_WRONLY | O_CREAT, 0444);
  if (rofd >= 0) close(rofd);
  if (geteuid() != 0) REJECT(n, readonly, "cannot be opened for appending");
  unlink(readonly);
  unlink(path);
  rmdir(dir);
}

void test_dump_signal() {
  const char* n = "PTSHIM_DUMP_SIGNAL";
  struct Good {
    const char* value;
    int sig;
    const char* name;
  };
  const Good good[] = {
      {"QUIT", SIGQUIT, "SIGQUIT"},    {"SIGQUIT", SIGQUIT, "SIGQUIT"},
      {"USR1", SIGUSR1, "SIGUSR1"},    {"SIGUSR1", SIGUSR1, "SIGUSR1"},
      {"usr2", SIGUSR2, "SIGUSR2"},    {"sigusr2", SIGUSR2, "SIGUSR2"},
      {"HUP", SIGHUP, "SIGHUP"},       {"SigHup", SIGHUP, "SIGHUP"},
      {"INT", SIGINT, "SIGINT"},       {"sigint", SIGINT, "SIGINT"},
      {"TERM", SIGTERM, "SIGTERM"},    {"SIGTERM", SIGTERM, "SIGTERM"},
      {"PWR", SIGPWR, "SIGPWR"},       {"SIGPWR", SIGPWR, "SIGPWR"},
      {"WINCH", SIGWINCH, "SIGWINCH"}, {"sigWinch", SIGWINCH, "SIGWINCH"},
  };
  for (const Good& g : good) {
    Options o = defaults();
    if (!CHECK_STREQ(parse_option(n, g.value, &o), nullptr)) continue;
    CHECK_EQ(o.dump_signal, g.sig);
    CHECK_STREQ(o.dump_signal_name, g.name);
    Options rest = o;
    rest.dump_signal = SIGQUIT;
    rest.dump_signal_name = defaults().dump_signal_name;
    CHECK(same(rest, defaults()));
  }
  for (const char* bad :
       {"",       "SIG",      "sig",     "SEGV",       "SIGSEGV",  "BUS",       "SIGBUS", "FPE",
        "ILL",    "SIGILL",   "ABRT",    "SIGABRT",    "TRAP",     "SYS",       "ALRM",   "SIGALRM",
        "alrm",   "KILL",     "SIGKILL", "STOP",       "SIGSTOP",  "CHLD",      "PIPE",   "CONT",
        "VTALRM", "3",        "10",      "SIGSIGQUIT", "SIG QUIT", "SIG_QUIT",  "QUIT ",  " QUIT",
        "QUITX",  "SIGQUITX", "USR",     "USR3",       "RTMIN",    "SIGRTMIN+1"}) {
    REJECT(n, bad, kNotSignal);
  }
}

void test_report_options() {
  const char* n = "PTSHIM_MISUSE";
  ACCEPT(n, "warn", misuse, MisuseMode::kWarn);
  ACCEPT(n, "abort", misuse, MisuseMode::kAbort);
  ACCEPT(n, "off", misuse, MisuseMode::kOff);
  for (const char* bad : {"", "Warn", "1", "abort "}) {
    REJECT(n, bad, "not a misuse action (warn, abort or off)");
  }
  ACCEPT("PTSHIM_LOCK_ORDER", "1", lock_order, true);
  ACCEPT("PTSHIM_STATS", "1", stats, true);
  REJECT("PTSHIM_STATS", "yes", "not 0 or 1");
  n = "PTSHIM_SYMBOLIZER";
  ACCEPT(n, "none", symbolizer_off, true);
  {
    Options o = defaults();
    CHECK_STREQ(parse_option(n, "/bin/sh", &o), nullptr);
    CHECK_STREQ(o.symbolizer, "/bin/sh");
  }
  REJECT(n, "", "not an absolute path to a symbolizer, or none");
  REJECT(n, "addr2line", "not an absolute path to a symbolizer, or none");
  REJECT(n, "/nonexistent/symbolizer", "not an executable file");
  REJECT(n, "/etc/passwd", "not an executable file");
  REJECT(n, "/bin", "not an executable file");  // a directory is searchable, not runnable
  n = "PTSHIM_DEBUG_FILE_DIRECTORY";
  for (const char* good : {"/usr/lib/debug", "/a:/b", "/", "/tmp/d:/usr/lib/debug"}) {
    Options o = defaults();
    CHECK_STREQ(parse_option(n, good, &o), nullptr);
    CHECK_STREQ(o.debug_file_directory, good);
  }
  for (const char* bad : {"", "debug", "/a:", "/a::/b", ":/a", "/a:b"}) {
    REJECT(n, bad, "not a list of absolute directories separated by colons");
  }
}

void test_deadlock() {
  const char* n = "PTSHIM_DEADLOCK";
  ACCEPT(n, "auto", deadlock, DeadlockMode::kAuto);
  ACCEPT(n, "abort", deadlock, DeadlockMode::kAbort);
  ACCEPT(n, "warn", deadlock, DeadlockMode::kWarn);
  for (const char* bad : {"", "ABORT", "Warn", "fatal", "0", "1", "abort ", " warn", "warning"}) {
    REJECT(n, bad, "not a deadlock action (auto, abort or warn)");
  }
}

}  // namespace

void test_sched() {
  constexpr const char* kNotPolicy = "not a scheduling policy (fifo, random, pct or pct:DEPTH)";
  constexpr const char* kNotDepth = "not a PCT depth (pct:1 to pct:32)";
  constexpr const char* kDepthRange = "PCT depth out of range (1 to 32)";
  struct Good {
    const char* value;
    SchedKind kind;
    int depth;
  };
  for (Good g : {Good{"fifo", SchedKind::kFifo, kPctDefaultDepth},
                 Good{"random", SchedKind::kRandom, kPctDefaultDepth},
                 Good{"pct", SchedKind::kPct, kPctDefaultDepth}, Good{"pct:1", SchedKind::kPct, 1},
                 Good{"pct:3", SchedKind::kPct, 3}, Good{"pct:32", SchedKind::kPct, 32},
                 Good{"pct:007", SchedKind::kPct, 7}}) {
    Options o = defaults();
    if (CHECK_STREQ(parse_option("PTSHIM_SCHED", g.value, &o), nullptr)) {
      CHECK(o.sched == g.kind);
      CHECK_EQ(o.pct_depth, g.depth);
      CHECK(o.sched_given);
    }
  }
  REJECT("PTSHIM_SCHED", "foo", kNotPolicy);
  REJECT("PTSHIM_SCHED", "", kNotPolicy);
  REJECT("PTSHIM_SCHED", "FIFO", kNotPolicy);
  REJECT("PTSHIM_SCHED", "pctx", kNotPolicy);
  REJECT("PTSHIM_SCHED", "random:2", kNotPolicy);
  REJECT("PTSHIM_SCHED", "pct:", kNotDepth);
  REJECT("PTSHIM_SCHED", "pct:x", kNotDepth);
  REJECT("PTSHIM_SCHED", "pct:3x", kNotDepth);
  REJECT("PTSHIM_SCHED", "pct:-1", kNotDepth);
  REJECT("PTSHIM_SCHED", "pct:0", kDepthRange);
  REJECT("PTSHIM_SCHED", "pct:33", kDepthRange);
  REJECT("PTSHIM_SCHED", "pct:99999999999", kDepthRange);
}

void test_seed() {
  constexpr const char* kNotSeed = "not a seed (a decimal number, 0 to 2^64-1)";
  for (auto [text, value] : {std::pair<const char*, uint64_t>{"0", 0},
                             {"1", 1},
                             {"42", 42},
                             {"18446744073709551615", UINT64_MAX}}) {
    Options o = defaults();
    if (CHECK_STREQ(parse_option("PTSHIM_SEED", text, &o), nullptr)) {
      CHECK_EQ(o.seed, value);
      CHECK(o.seed_given);
    }
  }
  for (const char* bad : {"-1", "", "+1", "1.5", "0x10", " 1", "1 ", "18446744073709551616"}) {
    REJECT("PTSHIM_SEED", bad, kNotSeed);
  }
  REJECT("PTSHIM_PCT_STEPS", "0", "not a count of scheduling points (1 or more)");
  REJECT("PTSHIM_PCT_STEPS", "x", "not a count of scheduling points (1 or more)");
  ACCEPT("PTSHIM_PCT_STEPS", "250", pct_steps, uint64_t{250});
  ACCEPT("PTSHIM_VIRTUAL_TIME", "0", virtual_time, int8_t{0});
  ACCEPT("PTSHIM_VIRTUAL_TIME", "1", virtual_time, int8_t{1});
  REJECT("PTSHIM_VIRTUAL_TIME", "yes", kNot01);
  ACCEPT("PTSHIM_SPURIOUS_WAKEUPS", "1", spurious_wakeups, true);
  REJECT("PTSHIM_SPURIOUS_WAKEUPS", "2", kNot01);
  ACCEPT("PTSHIM_SCHEDULE_DIGEST", "1", schedule_digest, true);
  REJECT("PTSHIM_SCHEDULE_DIGEST", "on", kNot01);
  constexpr const char* kNotList = "not a list of preemption numbers (e.g. 3,17,40)";
  for (const char* bad : {"x", "0", "1,", ",1", "1,,2", "1 2", "-3", "3,0"}) {
    REJECT("PTSHIM_PREEMPT_SKIP", bad, kNotList);
    REJECT("PTSHIM_PREEMPT_SHOW", bad, kNotList);
  }
  {
    Options o = defaults();
    CHECK_STREQ(parse_option("PTSHIM_PREEMPT_SKIP", "3,17,40", &o), nullptr);
    CHECK_STREQ(o.preempt_skip, "3,17,40");
  }
}

// What the variables imply together (settle_options).
void test_settle() {
  Options o = defaults();
  settle_options(&o, 99);
  CHECK(o.sched == SchedKind::kFifo);
  CHECK(!o.seeded);
  CHECK_EQ(o.virtual_time, int8_t{0});
  CHECK(!o.schedule_digest);

  o = defaults();  // a seed alone: random, virtual time, digest
  parse_option("PTSHIM_SEED", "5", &o);
  settle_options(&o, 99);
  CHECK(o.sched == SchedKind::kRandom);
  CHECK(o.seeded);
  CHECK_EQ(o.seed, uint64_t{5});
  CHECK_EQ(o.virtual_time, int8_t{1});
  CHECK(o.schedule_digest);

  o = defaults();  // pct without a seed: the drawn one
  parse_option("PTSHIM_SCHED", "pct:2", &o);
  settle_options(&o, 99);
  CHECK(o.seeded);
  CHECK_EQ(o.seed, uint64_t{99});

  o = defaults();  // virtual time off stays off
  parse_option("PTSHIM_SEED", "5", &o);
  parse_option("PTSHIM_VIRTUAL_TIME", "0", &o);
  settle_options(&o, 99);
  CHECK_EQ(o.virtual_time, int8_t{0});

  o = defaults();  // fifo asked for with a seed: not seeded, digest on request only
  parse_option("PTSHIM_SCHED", "fifo", &o);
  parse_option("PTSHIM_SEED", "5", &o);
  settle_options(&o, 99);
  CHECK(o.sched == SchedKind::kFifo);
  CHECK(!o.seeded);

  o = defaults();  // virtual time alone
  parse_option("PTSHIM_VIRTUAL_TIME", "1", &o);
  settle_options(&o, 99);
  CHECK(!o.seeded);
  CHECK_EQ(o.virtual_time, int8_t{1});
}

int main() {
  test_option_list();
  test_unknown_names();
  test_defaults();
  test_timeslice();
  test_stack_size();
  test_guarded_stacks();
  test_tls_switch_backtrace();
  test_report();
  test_trace();
  test_dump_signal();
  test_deadlock();
  test_report_options();
  test_sched();
  test_seed();
  test_settle();
  return ptshim::testing::finish();
}
