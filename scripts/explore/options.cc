// The syntax of `ptshim explore`'s options. Each bad value is one line
// naming it; the caller prints it and exits with status 2.
#include <cstdlib>
#include <cstring>

#include "scripts/explore/explore.h"

namespace explore {

const char kUsage[] = R"(Usage: ptshim explore [OPTION]... -- PROGRAM [ARG]...

Run PROGRAM under ptshim with the seeds 1..N of a seeded scheduling policy,
J runs at a time, and report the first run that fails: it exits non-zero,
dies by a signal, writes a ptshim failure report (deadlock, stack overflow,
fatal signal), runs past the timeout, or (--stdout-must-match) prints
something else than the first passing run. Each run has stdin /dev/null, its
own process group, its output captured, and address-space randomisation off.
For a failure it prints the seed, why, the tail of its stderr, its schedule
line and the command that replays it.

Options:
  --runs=N            seeds 1..N (default 1000); with --minimize, the most
                      runs the search may make (default 1000)
  --jobs=J            runs at a time (default: the CPU count)
  --sched=POLICY      random (default), pct or pct:D (D from 1 to 32)
  --pct-steps=K       PCT's run length in scheduling points (default: the
                      decisions= count of a first run of seed 1)
  --timeout=S         seconds a run may take, e.g. 10 or 0.5 (default 10);
                      past it the run is a hang: ptshim's thread dump is
                      asked for (SIGQUIT), then its process group is killed
  --stdout-must-match a run whose stdout differs from the first passing
                      run's (in seed order) fails
  --keep-going        run every seed and report every failure
  --minimize SEED     rerun SEED with subsets of its preemptions skipped and
                      report a failing schedule, of the same kind, with the
                      fewest preemptions, each with both threads' stacks
  -h, --help          show this help and exit

Exit status: 0 no failure found, 1 a failure found, 2 a usage error.
Options take their value after '=' or as the next argument. Options given
to ptshim before `explore` (--timeslice=1ms) apply to every run.
)";

namespace {
bool parse_count(const std::string& s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (max - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

bool parse_seconds(const std::string& s, double* out) {
  if (s.empty() || s.find_first_not_of("0123456789.") != std::string::npos) return false;
  char* end = nullptr;
  double v = strtod(s.c_str(), &end);
  if (*end != '\0' || !(v > 0) || v > 86400) return false;
  *out = v;
  return true;
}

bool valid_sched(const std::string& s) {
  if (s == "random" || s == "pct") return true;
  uint64_t depth;
  return s.starts_with("pct:") && parse_count(s.substr(4), 32, &depth) && depth >= 1;
}
}  // namespace

std::optional<std::string> parse_options(const std::vector<std::string>& args, Options* o) {
  size_t i = 0;
  bool dashdash = false;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      dashdash = true;
      ++i;
      break;
    }
    if (a == "-h" || a == "--help") {
      o->help = true;
      return std::nullopt;
    }
    if (a == "--stdout-must-match") {
      o->stdout_must_match = true;
      continue;
    }
    if (a == "--keep-going") {
      o->keep_going = true;
      continue;
    }
    std::string name = a, value;
    if (size_t eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    } else if (a == "--runs" || a == "--jobs" || a == "--sched" || a == "--timeout" ||
               a == "--minimize" || a == "--pct-steps") {
      if (i + 1 == args.size()) return "option '" + a + "' needs a value";
      value = args[++i];
    } else if (a.starts_with("-")) {
      return "unknown option '" + a + "' (see ptshim explore --help)";
    } else {
      return "'" + a + "': the program comes after -- (ptshim explore [OPTION]... -- PROGRAM)";
    }
    uint64_t n;
    if (name == "--runs") {
      if (!parse_count(value, uint64_t{1} << 40, &n) || n == 0) {
        return "invalid --runs '" + value + "': expected a count of runs, 1 or more";
      }
      o->runs = n;
    } else if (name == "--jobs") {
      if (!parse_count(value, 1024, &n) || n == 0) {
        return "invalid --jobs '" + value + "': expected 1 to 1024 runs at a time";
      }
      o->jobs = static_cast<unsigned>(n);
    } else if (name == "--sched") {
      if (!valid_sched(value)) {
        return "invalid --sched '" + value + "': expected random, pct or pct:D with D from 1 to 32";
      }
      o->sched = value;
    } else if (name == "--timeout") {
      if (!parse_seconds(value, &o->timeout_s)) {
        return "invalid --timeout '" + value + "': expected seconds, more than 0, e.g. 10 or 0.5";
      }
    } else if (name == "--minimize") {
      if (!parse_count(value, UINT64_MAX, &n)) {
        return "invalid --minimize '" + value + "': expected a seed, a decimal number";
      }
      o->minimize = n;
    } else if (name == "--pct-steps") {
      if (!parse_count(value, UINT64_MAX, &n) || n == 0) {
        return "invalid --pct-steps '" + value +
               "': expected a count of scheduling points, 1 or more";
      }
      o->pct_steps = n;
    } else {
      return "unknown option '" + name + "' (see ptshim explore --help)";
    }
  }
  if (!dashdash) return std::string("missing -- PROGRAM (ptshim explore [OPTION]... -- PROGRAM)");
  if (i == args.size())
    return std::string("missing the program after -- (ptshim explore [OPTION]... -- PROGRAM)");
  if (args[i].empty()) return std::string("the program after -- is an empty word");
  o->program.assign(args.begin() + static_cast<long>(i), args.end());
  return std::nullopt;
}

}  // namespace explore
