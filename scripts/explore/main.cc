// ptshim-explore, started by the launcher for `ptshim explore`:
//   ptshim-explore LAUNCHER LIBRARY [OPTION]... -- PROGRAM [ARG]...
// LAUNCHER (absolute) is named in the replay commands, LIBRARY is preloaded
// into every run.
//
// A run's environment is the driver's without `_` and the schedule's own
// variables, plus LD_PRELOAD and PTSHIM_SCHED, PTSHIM_SEED (and the pct
// steps, the skipped and shown preemptions): exactly what the launcher gives
// the program when the replay command is run (it drops `_` as well), so the
// program's stack starts at the same address. Address-space randomisation is
// off for the driver's children (the persona is inherited), as the launcher
// turns it off for a seeded run.
//
// Results are taken in seed order (a run that ends early waits for the
// lower seeds), so the first failure reported, and the reference stdout of
// --stdout-must-match, are the same whatever the number of jobs.
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "scripts/explore/run.h"

extern char** environ;

namespace explore {
namespace {

volatile sig_atomic_t g_interrupted;
constexpr size_t kRerun = 1;               // the tag of a failing seed's second run
constexpr uint64_t kReferenceTries = 100;  // seeds minimize tries for a reference stdout
void on_interrupt(int) { g_interrupted = 1; }

[[noreturn]] void usage_error(const std::string& message) {
  fprintf(stderr, "ptshim explore: %s\n", message.c_str());
  exit(2);
}

// The schedule's variables: set by the driver for each run, never inherited.
bool is_schedule_variable(std::string_view entry) {
  for (const char* name : {"PTSHIM_SCHED=", "PTSHIM_SEED=", "PTSHIM_PCT_STEPS=",
                           "PTSHIM_PREEMPT_SKIP=", "PTSHIM_PREEMPT_SHOW="}) {
    if (entry.starts_with(name)) return true;
  }
  return false;
}

int dump_signal_from_environment() {
  const char* v = getenv("PTSHIM_DUMP_SIGNAL");
  if (v == nullptr) return SIGQUIT;
  if (strncasecmp(v, "SIG", 3) == 0) v += 3;
  for (int sig : {SIGQUIT, SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGTERM, SIGPWR, SIGWINCH}) {
    if (strcasecmp(v, sigabbrev_np(sig)) == 0) return sig;
  }
  return SIGQUIT;
}

bool program_exists(const std::string& p) {
  if (p.find('/') != std::string::npos) return access(p.c_str(), X_OK) == 0;
  const char* path = getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string full = (dir.empty() ? "." : dir) + "/" + p;
    if (access(full.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    dirs.remove_prefix(colon + 1);
  }
}

struct Explorer {
  Options o;
  std::string launcher;
  std::vector<std::string> inherited;  // PTSHIM_* variables every run gets, as NAME=value
  std::optional<uint64_t> pct_steps;
  bool tty = false;

  bool pct() const { return o.sched != "random"; }

  std::vector<std::string> schedule_env(uint64_t seed, const std::vector<uint64_t>& skip,
                                        const std::vector<uint64_t>& show) const {
    std::vector<std::string> env = {"PTSHIM_SCHED=" + o.sched,
                                    "PTSHIM_SEED=" + std::to_string(seed)};
    if (pct_steps) env.push_back("PTSHIM_PCT_STEPS=" + std::to_string(*pct_steps));
    if (!skip.empty()) env.push_back("PTSHIM_PREEMPT_SKIP=" + number_list(skip));
    if (!show.empty()) env.push_back("PTSHIM_PREEMPT_SHOW=" + number_list(show));
    return env;
  }

  // The launcher command that runs what `schedule_env` describes.
  std::string replay(uint64_t seed, const std::vector<uint64_t>& skip) const {
    std::vector<std::string> words = inherited;
    words.push_back(launcher);
    words.push_back("--sched=" + o.sched);
    words.push_back("--seed=" + std::to_string(seed));
    if (pct_steps) words.push_back("--pct-steps=" + std::to_string(*pct_steps));
    if (!skip.empty()) words.push_back("--preempt-skip=" + number_list(skip));
    words.push_back("--");
    words.insert(words.end(), o.program.begin(), o.program.end());
    return shell_join(words);
  }

  std::string minimize_command(uint64_t seed) const {
    std::vector<std::string> words = inherited;
    words.push_back(launcher);
    words.push_back("explore");
    words.push_back("--sched=" + o.sched);
    if (pct_steps) words.push_back("--pct-steps=" + std::to_string(*pct_steps));
    if (o.timeout_s != 10) {
      char t[32];
      snprintf(t, sizeof t, "--timeout=%g", o.timeout_s);
      words.push_back(t);
    }
    if (o.stdout_must_match) words.push_back("--stdout-must-match");
    words.push_back("--minimize=" + std::to_string(seed));
    words.push_back("--");
    words.insert(words.end(), o.program.begin(), o.program.end());
    return shell_join(words);
  }

  void clear_progress() const {
    if (tty) fputs("\r\033[K", stderr);
  }

  // What a second run of a failing seed did, in one line.
  static std::string replay_check(const RunResult& first, const Verdict& v, const RunResult& again,
                                  const Verdict& va) {
    auto d1 = last_schedule(first.err), d2 = last_schedule(again.err);
    std::string digests;
    if (d1 && d2 && d1->digest != d2->digest) {
      digests = "; digest " + d2->digest + ", the first run's " + d1->digest;
    }
    if (va.failed && va.kind == v.kind && digests.empty()) {
      return std::string("the same failure") + (d1 && d2 ? ", the same digest" : "");
    }
    return "NOT the same: " + (va.failed ? va.why : std::string("it passed")) + digests;
  }

  void print_failure(const RunResult& r, const Verdict& v, bool with_minimize,
                     const std::string& replayed = "") const {
    clear_progress();
    printf("ptshim explore: seed %llu fails: %s\n", static_cast<unsigned long long>(r.seed),
           v.why.c_str());
    if (!v.detail.empty()) printf("  stdout, %s\n", v.detail.c_str());
    std::string tail = tail_lines(r.err, 20);
    if (tail.empty()) {
      printf("  stderr: (empty)\n");
    } else {
      printf("  stderr, last lines:\n");
      std::string_view t = tail;
      while (!t.empty()) {
        size_t nl = t.find('\n');
        printf("    | %.*s\n", static_cast<int>(t.substr(0, nl).size()), t.data());
        if (nl == std::string_view::npos) break;
        t.remove_prefix(nl + 1);
      }
    }
    if (auto s = last_schedule(r.err)) {
      printf("  schedule: %s\n", s->line.c_str());
    } else {
      printf("  schedule: (no schedule line in its stderr)\n");
    }
    printf("  replay:   %s\n", replay(r.seed, {}).c_str());
    if (!replayed.empty()) printf("  replayed once: %s\n", replayed.c_str());
    if (with_minimize) printf("  minimize: %s\n", minimize_command(r.seed).c_str());
    fflush(stdout);
  }

  // One run, alone, waited for.
  RunResult run_one(Pool& pool, uint64_t seed, const std::vector<uint64_t>& skip,
                    const std::vector<uint64_t>& show) {
    if (!pool.start({seed, schedule_env(seed, skip, show), 0})) {
      fprintf(stderr, "ptshim explore: cannot start %s: %s\n", o.program[0].c_str(),
              strerror(errno));
      exit(2);
    }
    return pool.wait_one().result;
  }

  // For pct without --pct-steps: seed 1 once with the library's default,
  // for the decisions= count the other runs then pass as the run's length.
  // Returns that run when it must count as seed 1's (no count printed, or
  // it failed: its replay command then has no --pct-steps either).
  std::optional<RunResult> calibrate(Pool& pool) {
    if (!pct() || pct_steps) return std::nullopt;
    RunResult first = run_one(pool, 1, {}, {});
    auto s = last_schedule(first.err);
    if (s && s->decisions && *s->decisions > 0 && !judge(first, nullptr, 0, o.timeout_s).failed) {
      pct_steps = *s->decisions;
      return std::nullopt;
    }
    return first;
  }

  int explore(Pool& pool, unsigned jobs) {
    double started = now_seconds(), last_progress = 0;
    uint64_t done = 0, failures = 0, first_failure = 0;
    std::optional<std::string> reference;
    uint64_t reference_seed = 0;
    std::map<uint64_t, RunResult> pending;
    uint64_t next_launch = 1, next_commit = 1;
    bool stop = false;
    if (auto first = calibrate(pool)) {
      pending.emplace(1, std::move(*first));
      next_launch = 2;
    }
    auto commit = [&](const RunResult& r) {
      ++done;
      Verdict v = judge(r, o.stdout_must_match && reference ? &*reference : nullptr, reference_seed,
                        o.timeout_s);
      if (!v.failed) {
        if (o.stdout_must_match && !reference) {
          reference = r.out;
          reference_seed = r.seed;
        }
        return;
      }
      if (failures++ == 0) first_failure = r.seed;
      auto schedule = last_schedule(r.err);
      bool replayable =
          !schedule || schedule->not_controlled.find("not replayable") == std::string::npos;
      if (!o.keep_going && replayable) {
        stop = true;
        pool.kill_all();  // runs of higher seeds, not needed
      }
      // The seed once more, as the replay command would run it: the same
      // failure and the same digest, or the run is not reproducible. Not for
      // a hang, which would cost the whole timeout again.
      std::string replayed = "not tried (a hang)";
      if (v.kind != "timeout") {
        if (!pool.start({r.seed, schedule_env(r.seed, {}, {}), kRerun})) {
          replayed = std::string("could not start: ") + strerror(errno);
        } else {
          for (;;) {
            Finished f = pool.wait_one();
            if (f.job.tag != kRerun) {
              pending.emplace(f.job.seed, std::move(f.result));
              continue;
            }
            Verdict va = judge(f.result, o.stdout_must_match && reference ? &*reference : nullptr,
                               reference_seed, o.timeout_s);
            replayed = replay_check(r, v, f.result, va);
            break;
          }
        }
      }
      print_failure(r, v, true, replayed);
      if (!o.keep_going && !replayable) {
        printf(
            "  (its schedule has timer preemptions that cannot be replayed exactly: looking on "
            "for a failure without them)\n");
      }
    };
    while (next_commit <= o.runs) {
      while (!stop && pool.running() < jobs && next_launch <= o.runs) {
        if (!pool.start({next_launch, schedule_env(next_launch, {}, {}), 0})) {
          fprintf(stderr, "ptshim explore: cannot start %s: %s\n", o.program[0].c_str(),
                  strerror(errno));
          return 2;
        }
        ++next_launch;
      }
      if (pending.contains(next_commit)) {
        commit(pending[next_commit]);
        pending.erase(next_commit++);
        if (stop) break;
        continue;
      }
      if (pool.running() == 0) break;
      Finished f = pool.wait_one();
      pending.emplace(f.job.seed, std::move(f.result));
      double t = now_seconds();
      if (tty && t - last_progress > 0.25) {
        last_progress = t;
        fprintf(stderr, "\r\033[Kexplore: %llu/%llu runs, %.0f runs/s, %llu failure%s",
                static_cast<unsigned long long>(done), static_cast<unsigned long long>(o.runs),
                static_cast<double>(done) / (t - started),
                static_cast<unsigned long long>(failures), failures == 1 ? "" : "s");
      }
    }
    pool.kill_all();
    clear_progress();
    double seconds = now_seconds() - started;
    printf("ptshim explore: %llu run%s (%s, %u at a time), %.1f s, %.0f runs/s: ",
           static_cast<unsigned long long>(done), done == 1 ? "" : "s", o.sched.c_str(), jobs,
           seconds, static_cast<double>(done) / seconds);
    if (failures == 0) {
      printf("no failure\n");
      return 0;
    }
    printf("%llu failure%s, the first with seed %llu\n", static_cast<unsigned long long>(failures),
           failures == 1 ? "" : "s", static_cast<unsigned long long>(first_failure));
    return 1;
  }

  int minimize(Pool& pool, unsigned jobs) {
    uint64_t seed = *o.minimize;
    calibrate(pool);  // the same steps as the explore run that found the seed
    // --stdout-must-match: the reference is explore's, the lowest passing seed's.
    std::optional<std::string> reference;
    uint64_t reference_seed = 0;
    for (uint64_t s = 1; o.stdout_must_match && !reference && s <= kReferenceTries; ++s) {
      if (s == seed) continue;
      RunResult r = run_one(pool, s, {}, {});
      if (!judge(r, nullptr, 0, o.timeout_s).failed) {
        reference = r.out;
        reference_seed = s;
      }
    }
    if (o.stdout_must_match && !reference) {
      printf("ptshim explore: no passing run among seeds 1 to %llu for the reference stdout\n",
             static_cast<unsigned long long>(kReferenceTries));
      return 1;
    }
    const std::string* ref = reference ? &*reference : nullptr;
    RunResult base = run_one(pool, seed, {}, {});
    Verdict v = judge(base, ref, reference_seed, o.timeout_s);
    if (!v.failed) {
      printf("ptshim explore: seed %llu does not fail; nothing to minimize\n",
             static_cast<unsigned long long>(seed));
      return 0;
    }
    print_failure(base, v, false);
    auto s = last_schedule(base.err);
    if (!s || !s->preemptions) {
      printf(
          "ptshim explore: cannot minimize: the run's schedule line has no preemptions= count\n");
      return 1;
    }
    uint64_t count = *s->preemptions;
    uint64_t budget = o.runs, runs = 1;
    FailsBatch fails = [&](const std::vector<std::vector<uint64_t>>& sets) {
      std::vector<bool> answers(sets.size());
      size_t asked = std::min<uint64_t>(sets.size(), budget > runs ? budget - runs : 0);
      for (size_t i = 0; i < asked;) {
        size_t started = 0;
        for (; i + started < asked && started < jobs; ++started) {
          std::vector<uint64_t> skip = complement(count, sets[i + started]);
          pool.start({seed, schedule_env(seed, skip, {}), i + started});
        }
        for (size_t k = 0; k < started; ++k) {
          Finished f = pool.wait_one();
          Verdict w = judge(f.result, ref, reference_seed, o.timeout_s);
          answers[f.job.tag] = w.failed && w.kind == v.kind;
        }
        i += started;
        runs += started;
        if (tty) {
          fprintf(stderr, "\r\033[Kexplore: minimizing seed %llu: %llu runs",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(runs));
        }
      }
      answers.resize(asked);
      return answers;
    };
    std::vector<uint64_t> all;
    for (uint64_t i = 1; i <= count; ++i) all.push_back(i);
    std::vector<uint64_t> kept = minimize_preemptions(all, jobs, fails);
    std::vector<uint64_t> skip = complement(count, kept);
    RunResult last = run_one(pool, seed, skip, kept);
    Verdict lv = judge(last, ref, reference_seed, o.timeout_s);
    clear_progress();
    printf(
        "ptshim explore: seed %llu fails (%s) with %zu of its %llu preemptions%s%s (%llu runs)\n",
        static_cast<unsigned long long>(seed), v.kind.c_str(), kept.size(),
        static_cast<unsigned long long>(count), kept.empty() ? "" : ": ", number_list(kept).c_str(),
        static_cast<unsigned long long>(runs + 1));
    if (!lv.failed || lv.kind != v.kind) {
      printf("  (the run that shows them did not fail the same way: %s)\n",
             lv.failed ? lv.why.c_str() : "it passed");
    }
    std::string shown = ptshim_lines(last.err);
    if (!shown.empty()) {
      printf("  ptshim's lines of that run:\n");
      std::string_view t = shown;
      while (!t.empty()) {
        size_t nl = t.find('\n');
        printf("    %.*s\n", static_cast<int>(t.substr(0, nl).size()), t.data());
        if (nl == std::string_view::npos) break;
        t.remove_prefix(nl + 1);
      }
    }
    printf("  replay:   %s\n", replay(seed, skip).c_str());
    return 1;
  }
};

int main_explore(int argc, char** argv) {
  if (argc < 3) usage_error("run me as `ptshim explore` (ptshim-explore LAUNCHER LIBRARY ...)");
  Explorer e;
  e.launcher = argv[1];
  std::string library = argv[2];
  std::vector<std::string> args(argv + 3, argv + argc);
  if (auto error = parse_options(args, &e.o)) usage_error(*error);
  if (e.o.help) {
    fputs(kUsage, stdout);
    return 0;
  }
  if (!program_exists(e.o.program[0])) usage_error(e.o.program[0] + ": no such program");
  e.pct_steps = e.o.pct_steps;
  e.tty = isatty(2) != 0;
  unsigned jobs = e.o.jobs;
  if (jobs == 0) {  // the CPUs this process may run on (taskset, cgroup cpusets)
    cpu_set_t cpus;
    jobs = sched_getaffinity(0, sizeof cpus, &cpus) == 0
               ? static_cast<unsigned>(CPU_COUNT(&cpus))
               : static_cast<unsigned>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
    jobs = std::max(jobs, 1u);
  }

  std::vector<std::string> env;
  std::string preload = library;
  for (char** p = environ; *p != nullptr; ++p) {
    std::string_view entry = *p;
    if (entry.starts_with("_=") || is_schedule_variable(entry)) continue;
    if (entry.starts_with("LD_PRELOAD=")) {
      if (entry.size() > 11) preload += ":" + std::string(entry.substr(11));
      continue;
    }
    if (entry.starts_with("PTSHIM_")) e.inherited.emplace_back(entry);
    env.emplace_back(entry);
  }
  env.push_back("LD_PRELOAD=" + preload);

  int persona = personality(0xffffffff);
  if (persona != -1) personality(static_cast<unsigned long>(persona) | ADDR_NO_RANDOMIZE);
  struct sigaction sa = {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  Pool pool(e.o.program, env, e.o.timeout_s, dump_signal_from_environment(), &g_interrupted);
  int status = e.o.minimize ? e.minimize(pool, jobs) : e.explore(pool, jobs);
  fflush(stdout);
  return status;
}

}  // namespace
}  // namespace explore

int main(int argc, char** argv) { return explore::main_explore(argc, argv); }
