// Checks of explore's pure parts: reading the schedule line and the reports
// out of a run's stderr, judging runs, quoting the replay command, the option
// syntax, and the minimizing search against fake runs (a run "fails" when the
// set of kept preemptions contains a chosen few).
#include <signal.h>
#include <sys/wait.h>

#include <set>

#include "core/testing/check.h"
#include "scripts/explore/explore.h"

using namespace explore;

namespace {

void schedule_lines() {
  auto s =
      parse_schedule_line("ptshim: schedule seed=17 decisions=4021 preemptions=35 digest=9f3a01c2");
  CHECK(s.has_value());
  CHECK_EQ(s->seed, 17u);
  CHECK_EQ(*s->decisions, 4021u);
  CHECK_EQ(*s->preemptions, 35u);
  CHECK(s->digest == "9f3a01c2");
  CHECK(s->not_controlled.empty());

  auto u = parse_schedule_line(
      "ptshim: schedule seed=3 decisions=10 preemptions=0 digest=00000001; not controlled: 2 "
      "outside signals, aslr");
  CHECK(u.has_value());
  CHECK(u->not_controlled == "2 outside signals, aslr");
  CHECK_EQ(*u->preemptions, 0u);

  auto old = parse_schedule_line("ptshim: schedule seed=5 decisions=7 digest=abcdef01");
  CHECK(old.has_value());
  CHECK(!old->preemptions.has_value());

  CHECK(!parse_schedule_line("ptshim: schedule of the week").has_value());
  CHECK(!parse_schedule_line("my program: schedule seed=1 decisions=2 digest=1").has_value());
  CHECK(!parse_schedule_line("ptshim: schedule seed=x decisions=2 digest=1").has_value());

  auto last = last_schedule(
      "hello\nptshim: schedule seed=1 decisions=2 preemptions=0 digest=aa\n"
      "ptshim: schedule seed=1 decisions=9 preemptions=4 digest=bb\nbye\n");
  CHECK(last.has_value());
  CHECK_EQ(*last->decisions, 9u);
  CHECK(!last_schedule("nothing here\n").has_value());
}

void reports() {
  CHECK(failure_report("all is well\n").empty());
  std::string deadlock =
      "work\nptshim: deadlock: no thread can run and none is sleeping; 2 thread(s) blocked "
      "forever:\n  thread 1 \"main\": waiting\nptshim: wait-for cycle: thread 1 waits\n";
  CHECK(failure_report(deadlock).starts_with("ptshim: deadlock: no thread"));
  CHECK(report_class(failure_report(deadlock)) == "deadlock");

  std::string warning =
      "ptshim: deadlock warning: no thread can run and none is sleeping, but the wait may end: "
      "an armed alarm (SIGALRM); the run goes on; 1 thread(s) blocked:\n"
      "ptshim: wait-for cycle: thread 1 joins thread 2, which joins thread 1\n"
      "ptshim: backtraces:\nptshim: end of deadlock warning\n";
  CHECK(failure_report(warning).empty());
  std::string dump =
      "ptshim: thread dump (SIGQUIT), 2 live thread(s):\n  thread 1\nptshim: end of thread dump\n";
  CHECK(failure_report(dump).empty());
  // A lock-order cycle is a warning about every schedule, not this one's failure.
  std::string lock_order =
      "ptshim: lock-order cycle: mutex 0x10 -> mutex 0x20 -> mutex 0x10; 2 locks taken in orders "
      "that can deadlock (the run goes on):\n  mutex 0x10, first locked at 0x5 f+0x5 (p)\n"
      "  thread 2 \"f\" took mutex 0x20 at 0x6 f+0x6 (p) while holding mutex 0x10 taken at 0x5\n"
      "  #0 0x6 f+0x6 (p)\nptshim: end of lock-order cycle\n";
  CHECK(failure_report(lock_order).empty());
  CHECK(failure_report(dump + "ptshim: SIGSEGV (address not mapped) at 0x0 in thread 2\n") ==
        "ptshim: SIGSEGV (address not mapped) at 0x0 in thread 2");
  CHECK(report_class("ptshim: SIGSEGV (address not mapped) at 0x0 in thread 2") == "SIGSEGV");
  CHECK(report_class("ptshim: SIGABRT in thread 1 \"main\"") == "SIGABRT");
  CHECK(report_class(failure_report("ptshim: stack overflow in thread 2 \"deep\"\n")) ==
        "stack overflow");
  CHECK(report_class(failure_report("ptshim: cannot create the preemption timer\n")) ==
        "ptshim error");
  CHECK(failure_report("ptshim: schedule seed=1 decisions=2 digest=3\n").empty());
  CHECK(failure_report("ptshim: SIG\n").empty());
  CHECK(failure_report("  ptshim: deadlock: indented, a program's\n").empty());
}

void text() {
  CHECK(tail_lines("a\nb\nc\n", 2) == "b\nc");
  CHECK(tail_lines("a\nb\nc", 5) == "a\nb\nc");
  CHECK(tail_lines("", 3).empty());
  CHECK(tail_lines("\nx\n", 1) == "x");
  CHECK(tail_lines("\nx\n", 2) == "\nx");
  CHECK(ptshim_lines("mine\nptshim: preemption 3\n  stack\nmine too\n  indented but mine\n") ==
        "ptshim: preemption 3\n  stack\n");
  CHECK(shell_quote("plain/path-1.0") == "plain/path-1.0");
  CHECK(shell_quote("two words") == "'two words'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("$HOME") == "'$HOME'");
  CHECK(shell_join({"/bin/ptshim", "--seed=3", "--", "prog", "a b"}) ==
        "/bin/ptshim --seed=3 -- prog 'a b'");
  CHECK(number_list({3, 17, 40}) == "3,17,40");
  CHECK(number_list({}).empty());
  CHECK(signal_text(SIGABRT) == "SIGABRT");
}

RunResult exited(int code, std::string err = "", std::string out = "") {
  RunResult r;
  r.seed = 4;
  r.wait_status = code << 8;  // WIFEXITED, WEXITSTATUS == code
  r.err = std::move(err);
  r.out = std::move(out);
  return r;
}

void judging() {
  CHECK(!judge(exited(0), nullptr, 0, 10).failed);
  Verdict one = judge(exited(1), nullptr, 0, 10);
  CHECK(one.failed);
  CHECK(one.why == "exit status 1");
  CHECK(one.kind == "exit 1");

  RunResult aborted = exited(0, "ptshim: deadlock: no thread can run\n");
  aborted.wait_status = SIGABRT;  // WIFSIGNALED
  Verdict d = judge(aborted, nullptr, 0, 10);
  CHECK(d.why == "killed by SIGABRT; report: ptshim: deadlock: no thread can run");
  CHECK(d.kind == "signal SIGABRT, report deadlock");

  // A report from a forked child, the program itself exiting 0.
  Verdict child =
      judge(exited(0, "ptshim: SIGSEGV (address not mapped) at 0x8 in thread 1\n"), nullptr, 0, 10);
  CHECK(child.failed);
  CHECK(child.kind == "exit 0, report SIGSEGV");

  CHECK(!judge(exited(0,
                      "ptshim: thread dump (SIGQUIT), 1 live thread(s):\n"
                      "ptshim: end of thread dump\n"),
               nullptr, 0, 10)
             .failed);

  RunResult hung = exited(0);
  hung.wait_status = SIGKILL;
  hung.timed_out = true;
  Verdict h = judge(hung, nullptr, 0, 0.5);
  CHECK(h.why == "timed out after 0.5 s (a hang)");
  CHECK(h.kind == "timeout");

  std::string reference = "pid 1\n";
  CHECK(!judge(exited(0, "", "pid 1\n"), &reference, 1, 10).failed);
  Verdict m = judge(exited(0, "", "pid 22\n"), &reference, 1, 10);
  CHECK(m.failed);
  CHECK(m.kind == "stdout");
  CHECK(m.why == "stdout differs from seed 1's (7 bytes, seed 1's 6)");
  CHECK(m.detail == "line 1: \"pid 22\", seed 1 printed \"pid 1\"");
  std::string two = "a\nb\n";
  CHECK(judge(exited(0, "", "a\n"), &two, 3, 10).detail ==
        "line 2: (end of output), seed 3 printed \"b\"");
  // Exiting non-zero is the failure, whatever the output.
  CHECK(judge(exited(2, "", "pid 22\n"), &reference, 1, 10).kind == "exit 2");
}

std::optional<std::string> parse(std::vector<std::string> args, Options* o) {
  return parse_options(args, o);
}

void options() {
  Options o;
  CHECK(!parse({"--runs=50", "--jobs", "3", "--sched=pct:2", "--timeout=0.5", "--stdout-must-match",
                "--keep-going", "--", "prog", "--runs=1"},
               &o)
             .has_value());
  CHECK_EQ(o.runs, 50u);
  CHECK_EQ(o.jobs, 3u);
  CHECK(o.sched == "pct:2");
  CHECK(o.timeout_s == 0.5);
  CHECK(o.stdout_must_match && o.keep_going);
  CHECK(o.program == std::vector<std::string>({"prog", "--runs=1"}));

  Options m;
  CHECK(!parse({"--minimize", "17", "--pct-steps=900", "--", "p"}, &m).has_value());
  CHECK_EQ(*m.minimize, 17u);
  CHECK_EQ(*m.pct_steps, 900u);

  Options d;
  CHECK(!parse({"--", "p"}, &d).has_value());
  CHECK_EQ(d.runs, 1000u);
  CHECK(d.sched == "random");
  CHECK(d.timeout_s == 10);

  Options h;
  CHECK(!parse({"--help"}, &h).has_value() && h.help);

  Options x;
  CHECK(*parse({"--sched=foo", "--", "p"}, &x) ==
        "invalid --sched 'foo': expected random, pct or pct:D with D from 1 to 32");
  CHECK(parse({"--sched=fifo", "--", "p"}, &x).has_value());
  CHECK(parse({"--sched=pct:0", "--", "p"}, &x).has_value());
  CHECK(parse({"--sched=pct:33", "--", "p"}, &x).has_value());
  CHECK(!parse({"--sched=pct:32", "--", "p"}, &x).has_value());
  CHECK(*parse({"--runs=0", "--", "p"}, &x) ==
        "invalid --runs '0': expected a count of runs, 1 or more");
  CHECK(parse({"--runs=-1", "--", "p"}, &x).has_value());
  CHECK(parse({"--jobs=0", "--", "p"}, &x).has_value());
  CHECK(parse({"--timeout=0", "--", "p"}, &x).has_value());
  CHECK(parse({"--timeout=1e3", "--", "p"}, &x).has_value());
  CHECK(parse({"--minimize=-1", "--", "p"}, &x).has_value());
  CHECK(*parse({"--bogus", "--", "p"}, &x) ==
        "unknown option '--bogus' (see ptshim explore --help)");
  CHECK(*parse({"--runs"}, &x) == "option '--runs' needs a value");
  CHECK(*parse({"--runs=3"}, &x) == "missing -- PROGRAM (ptshim explore [OPTION]... -- PROGRAM)");
  CHECK(*parse({"--"}, &x) ==
        "missing the program after -- (ptshim explore [OPTION]... -- PROGRAM)");
  CHECK(parse({"prog"}, &x)->starts_with("'prog': the program comes after --"));
}

// A fake run: fails when the kept set contains every one of `needed`, or
// (with `any`) one of them. Counts the runs.
struct Fake {
  std::set<uint64_t> needed;
  bool any = false;
  size_t runs = 0;
  size_t budget = SIZE_MAX;
  FailsBatch fails() {
    return [this](const std::vector<std::vector<uint64_t>>& sets) {
      std::vector<bool> answers;
      for (const auto& s : sets) {
        if (runs == budget) break;
        ++runs;
        std::set<uint64_t> kept(s.begin(), s.end());
        size_t hits = 0;
        for (uint64_t n : needed) hits += kept.contains(n);
        answers.push_back(any ? hits > 0 : hits == needed.size());
      }
      return answers;
    };
  }
};

std::vector<uint64_t> one_to(uint64_t n) {
  std::vector<uint64_t> v;
  for (uint64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

void minimizing() {
  Fake two{{3, 17}};
  CHECK(minimize_preemptions(one_to(40), 2, two.fails()) == std::vector<uint64_t>({3, 17}));
  CHECK(two.runs < 60);

  Fake three{{1, 20, 64}};
  CHECK(minimize_preemptions(one_to(64), 4, three.fails()) == std::vector<uint64_t>({1, 20, 64}));

  Fake none{{}};  // fails with no preemption at all: one run
  CHECK(minimize_preemptions(one_to(100), 2, none.fails()).empty());
  CHECK_EQ(none.runs, 1u);

  Fake either{{5, 9}, true};
  std::vector<uint64_t> one = minimize_preemptions(one_to(12), 3, either.fails());
  CHECK_EQ(one.size(), 1u);

  Fake all{{1, 2, 3}};
  CHECK(minimize_preemptions(one_to(3), 2, all.fails()) == std::vector<uint64_t>({1, 2, 3}));

  // The result does not depend on how many runs go at once.
  for (size_t batch : {1, 2, 3, 8}) {
    Fake f{{7, 8, 30}};
    CHECK(minimize_preemptions(one_to(33), batch, f.fails()) == std::vector<uint64_t>({7, 8, 30}));
  }

  // Out of budget: the smallest failing set found so far, never a passing one.
  Fake poor{{3, 17}};
  poor.budget = 4;
  std::vector<uint64_t> partial = minimize_preemptions(one_to(40), 1, poor.fails());
  CHECK(std::set<uint64_t>(partial.begin(), partial.end()).contains(3));
  CHECK(std::set<uint64_t>(partial.begin(), partial.end()).contains(17));
  CHECK_EQ(poor.runs, 4u);

  CHECK(complement(6, {2, 5}) == std::vector<uint64_t>({1, 3, 4, 6}));
  CHECK(complement(3, {}) == std::vector<uint64_t>({1, 2, 3}));
  CHECK(complement(0, {}).empty());
}

}  // namespace

int main() {
  schedule_lines();
  reports();
  text();
  judging();
  options();
  minimizing();
  return ptshim::testing::finish();
}
