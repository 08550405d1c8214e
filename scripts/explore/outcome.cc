// What a run's stderr says, and whether the run failed. The failure report
// headers are core/diag's: "ptshim: deadlock: ", "ptshim: stack overflow in ",
// "ptshim: SIG<NAME> ..." (a fatal signal, crash.cc), and ptshim's fatal
// errors, each of which ends the process by a signal anyway. "ptshim: thread
// dump" and "ptshim: deadlock warning" blocks, after which the program goes
// on, are not failures, nor are the lines inside them. Nor is a
// "ptshim: lock-order cycle" (PTSHIM_LOCK_ORDER=1): a warning that the
// program's lock order could deadlock under some schedule, seen in nearly
// every run, where explore looks for the schedules that fail; a schedule that
// does deadlock ends with "ptshim: deadlock: " as ever. Its lines but the
// first and the last are indented, and those two are matched by nothing here.
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <cstdio>

#include "scripts/explore/explore.h"

namespace explore {

namespace {
constexpr std::string_view kPrefix = "ptshim: ";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Calls f(line) for each line of text, without its newline.
template <typename F>
void each_line(std::string_view text, F f) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    f(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  *out = n;
  return true;
}

// "ptshim: SIGSEGV (...) at 0x... in thread 2": a signal name, then a space or the end.
bool is_signal_header(std::string_view rest) {
  if (!starts_with(rest, "SIG") || rest.size() < 4) return false;
  size_t i = 3;
  while (i < rest.size() &&
         ((rest[i] >= 'A' && rest[i] <= 'Z') || (rest[i] >= '0' && rest[i] <= '9')))
    ++i;
  return i > 3 && (i == rest.size() || rest[i] == ' ');
}

// ptshim's fatal errors (fatal() and the foreign kernel thread report).
bool is_fatal_error(std::string_view rest) {
  return starts_with(rest, "cannot ") || starts_with(rest, "out of memory") ||
         starts_with(rest, "a thread's pthread_exit or cancellation was caught") ||
         rest.find("() called on kernel thread ") != std::string_view::npos ||
         starts_with(rest, "glibc's function is missing");
}
// "line 3: \"b\", seed 1 printed \"a\"" for the first line where `out` and `ref` differ.
std::string first_difference(std::string_view out, std::string_view ref, uint64_t ref_seed) {
  size_t line = 1;
  for (;;) {
    size_t a = out.find('\n'), b = ref.find('\n');
    std::string_view x = out.substr(0, a), y = ref.substr(0, b);
    if (x != y || (a == std::string_view::npos) != (b == std::string_view::npos)) {
      auto show = [](std::string_view s, bool ended) {
        if (!ended && s.empty()) return std::string("(end of output)");
        return "\"" + std::string(s.substr(0, 200)) + "\"";
      };
      return "line " + std::to_string(line) + ": " + show(x, a != std::string_view::npos) +
             ", seed " + std::to_string(ref_seed) + " printed " +
             show(y, b != std::string_view::npos);
    }
    if (a == std::string_view::npos) return "";
    out.remove_prefix(a + 1);
    ref.remove_prefix(b + 1);
    ++line;
  }
}
}  // namespace

std::optional<Schedule> parse_schedule_line(std::string_view line) {
  constexpr std::string_view kHead = "ptshim: schedule ";
  if (!starts_with(line, kHead)) return std::nullopt;
  Schedule s;
  s.line = std::string(line);
  std::string_view rest = line.substr(kHead.size());
  if (size_t semi = rest.find("; not controlled: "); semi != std::string_view::npos) {
    s.not_controlled = std::string(rest.substr(semi + 18));
    rest = rest.substr(0, semi);
  }
  bool have_seed = false;
  while (!rest.empty()) {
    size_t space = rest.find(' ');
    std::string_view field = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    size_t eq = field.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    uint64_t n;
    if (key == "digest") {
      s.digest = std::string(value);
    } else if (!parse_u64(value, &n)) {
      continue;  // a field this driver does not know
    } else if (key == "seed") {
      s.seed = n;
      have_seed = true;
    } else if (key == "decisions") {
      s.decisions = n;
    } else if (key == "preemptions") {
      s.preemptions = n;
    }
  }
  if (!have_seed || s.digest.empty()) return std::nullopt;
  return s;
}

std::optional<Schedule> last_schedule(std::string_view text) {
  std::optional<Schedule> last;
  each_line(text, [&](std::string_view line) {
    if (auto s = parse_schedule_line(line)) last = std::move(s);
  });
  return last;
}

std::string failure_report(std::string_view text) {
  std::string found;
  bool in_block = false;  // inside a dump or a warning, which end with a line of their own
  each_line(text, [&](std::string_view line) {
    if (!found.empty() || !starts_with(line, kPrefix)) return;
    std::string_view rest = line.substr(kPrefix.size());
    if (in_block) {
      in_block = !(starts_with(rest, "end of thread dump") ||
                   starts_with(rest, "end of deadlock warning"));
      return;
    }
    if (starts_with(rest, "thread dump") || starts_with(rest, "deadlock warning")) {
      in_block = true;
    } else if (starts_with(rest, "deadlock: ") || starts_with(rest, "stack overflow in ") ||
               is_signal_header(rest) || is_fatal_error(rest)) {
      found = std::string(line);
    }
  });
  return found;
}

std::string report_class(std::string_view header) {
  std::string_view rest = header.substr(std::min(header.size(), kPrefix.size()));
  if (starts_with(rest, "deadlock")) return "deadlock";
  if (starts_with(rest, "stack overflow")) return "stack overflow";
  if (is_signal_header(rest)) return std::string(rest.substr(0, rest.find(' ')));
  return "ptshim error";
}

std::string tail_lines(std::string_view text, size_t n) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (n == 0 || text.empty()) return {};
  size_t end = text.size();  // the lines taken are [start, end)
  for (size_t i = 0; i < n; ++i) {
    size_t nl = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
    if (nl == std::string_view::npos) return std::string(text);
    end = nl;
  }
  return std::string(text.substr(end + 1));
}

std::string ptshim_lines(std::string_view text) {
  std::string out;
  bool in = false;
  each_line(text, [&](std::string_view line) {
    if (starts_with(line, kPrefix)) {
      in = true;
    } else if (!starts_with(line, " ")) {
      in = false;
    }
    if (in) out.append(line).push_back('\n');
  });
  return out;
}

std::string signal_text(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

Verdict judge(const RunResult& r, const std::string* reference, uint64_t reference_seed,
              double timeout_s) {
  Verdict v;
  std::string report = failure_report(r.err);
  std::string report_part;
  if (!report.empty()) report_part = "; report: " + report.substr(0, 200);
  char seconds[32];
  snprintf(seconds, sizeof seconds, "%g", timeout_s);
  if (r.timed_out) {
    v.why = std::string("timed out after ") + seconds + " s (a hang)";
    v.kind = "timeout";
  } else if (WIFSIGNALED(r.wait_status)) {
    v.why = "killed by " + signal_text(WTERMSIG(r.wait_status)) + report_part;
    v.kind = "signal " + signal_text(WTERMSIG(r.wait_status));
  } else if (WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) != 0) {
    v.why = "exit status " + std::to_string(WEXITSTATUS(r.wait_status)) + report_part;
    v.kind = "exit " + std::to_string(WEXITSTATUS(r.wait_status));
  } else if (!report.empty()) {
    v.why = "exit status 0" + report_part;
    v.kind = "exit 0";
  } else if (reference != nullptr && r.out != *reference) {
    v.why = "stdout differs from seed " + std::to_string(reference_seed) + "'s (" +
            std::to_string(r.out.size()) + " bytes, seed " + std::to_string(reference_seed) +
            "'s " + std::to_string(reference->size()) + ")";
    v.kind = "stdout";
    v.detail = first_difference(r.out, *reference, reference_seed);
  } else {
    return v;
  }
  if (!report.empty()) v.kind += ", report " + report_class(report);
  v.failed = true;
  return v;
}

std::string shell_quote(std::string_view word) {
  bool plain = !word.empty();
  for (char c : word) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          strchr("_-+=/.,:@%", c) != nullptr)) {
      plain = false;
    }
  }
  if (plain) return std::string(word);
  std::string q = "'";
  for (char c : word) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string s;
  for (const std::string& w : words) {
    if (!s.empty()) s += ' ';
    s += shell_quote(w);
  }
  return s;
}

std::string number_list(const std::vector<uint64_t>& numbers) {
  std::string s;
  for (uint64_t n : numbers) {
    if (!s.empty()) s += ',';
    s += std::to_string(n);
  }
  return s;
}

}  // namespace explore
