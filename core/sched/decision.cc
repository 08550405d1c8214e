// The schedule's record: the digest and count of a run's choices, its
// preemptions (and those PTSHIM_PREEMPT_SKIP leaves out), the last switches
// for reports, and what the run could not control.
//
// INVARIANTS:
// - Only core/sched writes here, inside the core section.
// - The digest folds in kinds of choice and thread numbers only: no address,
//   time or count of anything outside the schedule, so that the same seed
//   gives the same digest in every run of the same program and input.
#include <sys/personality.h>
#include <sys/syscall.h>

#include "core/diag/diag.h"

namespace ptshim {

bool g_recording;
const char* g_shim_function;
uintptr_t g_shim_site;

namespace {
uint64_t g_decisions;
uint64_t g_digest = 0xcbf29ce484222325u;  // FNV-1a's offset basis
uint64_t g_preemptions;
uint64_t g_uncontrolled[static_cast<int>(Uncontrolled::kCount)];

SwitchRecord g_recent[kRecentSwitches];
uint64_t g_switches;

// "3,17,40": is n in it? (The list was checked by options.cc.)
bool list_has(const char* list, uint64_t n) {
  if (list == nullptr) return false;
  uint64_t value = 0;
  for (const char* p = list;; ++p) {
    if (*p >= '0' && *p <= '9') {
      value = value * 10 + static_cast<uint64_t>(*p - '0');
      continue;
    }
    if (value == n) return true;
    if (*p == '\0') return false;
    value = 0;
  }
}
}  // namespace

void schedule_recording_start() { g_recording = options().schedule_digest || options().seeded; }

void decision_note(uint32_t kind, uint64_t chosen) {
  ++g_decisions;
  // FNV-1a over two words: cheap, and any change of order or choice shows.
  g_digest = (g_digest ^ kind) * 0x100000001b3u;
  g_digest = (g_digest ^ chosen) * 0x100000001b3u;
}

uint64_t decision_count() { return g_decisions; }

uint64_t schedule_digest() {
  uint64_t h = g_digest ^ (g_digest >> 33);
  h *= 0xff51afd7ed558ccdu;
  return h ^ (h >> 33);
}

void switch_note(const Thread* from, const Thread* to, SwitchWhy why, SchedPoint point) {
  SwitchRecord& r = g_recent[g_switches++ % kRecentSwitches];
  r.decision = g_decisions;
  r.from = from->number;
  r.to = to->number;
  r.why = why;
  r.point = point;
  r.wait = from->wait_kind;
  r.function = g_shim_function;
  r.site = g_shim_site;
}

size_t recent_switches(SwitchRecord* out) {
  size_t n = g_switches < kRecentSwitches ? g_switches : kRecentSwitches;
  for (size_t i = 0; i < n; ++i) out[i] = g_recent[(g_switches - n + i) % kRecentSwitches];
  return n;
}

bool preemption_take(const Thread* from, const Thread* to) {
  uint64_t n = ++g_preemptions;
  if (list_has(options().preempt_skip, n)) return false;
  if (list_has(options().preempt_show, n)) report_preemption(n, from, to);
  return true;
}

uint64_t preemption_count() { return g_preemptions; }

void schedule_note_uncontrolled(Uncontrolled what) { ++g_uncontrolled[static_cast<int>(what)]; }

uint64_t uncontrolled_count(Uncontrolled what) { return g_uncontrolled[static_cast<int>(what)]; }

const char* uncontrolled_name(Uncontrolled what, uint64_t count) {
  bool one = count == 1;
  switch (what) {
    case Uncontrolled::kTimerPreemption:
      return one ? "timer preemption not replayable" : "timer preemptions not replayable";
    case Uncontrolled::kOutsideSignal:
      return one ? "signal from outside" : "signals from outside";
    case Uncontrolled::kOutsideIo:
      return one ? "I/O wait ended from outside" : "I/O waits ended from outside";
    case Uncontrolled::kRdtsc:
      return one ? "cycle-counter read" : "cycle-counter reads";
    case Uncontrolled::kTimerTimeJump:
      return one ? "timer jump of virtual time not replayable"
                 : "timer jumps of virtual time not replayable";
    case Uncontrolled::kRealTime:
      return one ? "real-time deadline" : "real-time deadlines";
    case Uncontrolled::kCount:
      break;
  }
  return "?";
}

bool address_layout_random() {
  long persona = arch::raw_syscall(SYS_personality, 0xffffffff);
  return persona >= 0 && (persona & ADDR_NO_RANDOMIZE) == 0;
}

}  // namespace ptshim
