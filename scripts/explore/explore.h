// ptshim explore: runs a program under many seeded schedules and judges each
// run; --minimize searches for a failing schedule with the fewest
// preemptions. An ordinary program (it is not preloaded), started by the
// launcher as `ptshim-explore LAUNCHER LIBRARY [OPTION]... -- PROGRAM [ARG]...`.
//
// The pure parts (reading a run's stderr, judging it, quoting, the option
// syntax, the minimizing search) are here, apart from the processes, so that
// explore_test.cc checks them without running anything.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace explore {

// ---- a run's stderr (outcome.cc) ----------------------------------------------------------
// The library's line at exit of a seeded run:
//   ptshim: schedule seed=N decisions=K preemptions=P digest=XXXXXXXX[; not controlled: ...]
struct Schedule {
  std::string line;  // the whole line, without its newline
  uint64_t seed = 0;
  std::optional<uint64_t> decisions;
  std::optional<uint64_t> preemptions;
  std::string digest;
  std::string not_controlled;  // what follows "; not controlled: ", or empty
};
std::optional<Schedule> parse_schedule_line(std::string_view line);
// The last such line in `text` (a forked child prints its own before).
std::optional<Schedule> last_schedule(std::string_view text);

// The header of the first ptshim report in `text` that means the run failed
// (core/diag: a deadlock, a stack overflow, a fatal signal, ptshim's own fatal
// errors), or empty. A thread dump and a deadlock warning, after which the
// program goes on, are not failures.
std::string failure_report(std::string_view text);
// A short name for a failure report header: "deadlock", "stack overflow",
// "SIGSEGV", "ptshim error".
std::string report_class(std::string_view header);

// The last `n` lines of `text`.
std::string tail_lines(std::string_view text, size_t n);
// The lines ptshim wrote: each line from "ptshim: " with the indented lines after it.
std::string ptshim_lines(std::string_view text);

// ---- judging a run (outcome.cc) ---------------------------------------------------------------
struct RunResult {
  uint64_t seed = 0;
  int wait_status = 0;  // as from waitpid
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;
};
struct Verdict {
  bool failed = false;
  std::string why;     // "exit status 1", "killed by SIGABRT; report: ptshim: deadlock: ...", ...
  std::string kind;    // equal for the same failure: "exit 1", "signal SIGABRT, report deadlock"
  std::string detail;  // for a stdout that differs: the first line that does
};
// `reference` is the stdout the run must print (--stdout-must-match), or null.
Verdict judge(const RunResult& r, const std::string* reference, uint64_t reference_seed,
              double timeout_s);
std::string signal_text(int sig);  // "SIGABRT", or "signal 40"

// ---- commands (outcome.cc) --------------------------------------------------------------------
std::string shell_quote(std::string_view word);
std::string shell_join(const std::vector<std::string>& words);
std::string number_list(const std::vector<uint64_t>& numbers);  // "3,17,40"

// ---- options (options.cc) ---------------------------------------------------------------------
struct Options {
  uint64_t runs = 1000;
  unsigned jobs = 0;  // 0: the CPU count
  std::string sched = "random";
  double timeout_s = 10;
  bool stdout_must_match = false;
  bool keep_going = false;
  std::optional<uint64_t> minimize;  // the seed to minimize
  std::optional<uint64_t> pct_steps;
  std::vector<std::string> program;  // PROGRAM [ARG]...
  bool help = false;
};
// Parses the driver's arguments after LAUNCHER and LIBRARY. On a usage
// error returns the one-line message (without "ptshim explore: ").
std::optional<std::string> parse_options(const std::vector<std::string>& args, Options* o);
extern const char kUsage[];

// ---- minimizing (minimize.cc) ------------------------------------------------------------------
// Searches for a smallest set of kept preemptions, among `all`, for which the
// run still fails (ddmin: halves, then complements, then finer pieces).
// `fails` tests several sets at once (the caller runs them in parallel) and
// says for each whether that run failed the same way; it may test fewer
// than asked when its budget is spent, and answers nothing once it is
// (the search then returns the smallest failing set found).
using FailsBatch = std::function<std::vector<bool>(const std::vector<std::vector<uint64_t>>&)>;
std::vector<uint64_t> minimize_preemptions(const std::vector<uint64_t>& all, size_t batch,
                                           const FailsBatch& fails);
// The preemptions of 1..count not in `kept`: what a run must skip.
std::vector<uint64_t> complement(uint64_t count, const std::vector<uint64_t>& kept);

}  // namespace explore
