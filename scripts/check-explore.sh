#!/usr/bin/env bash
# Checks of `ptshim explore` (run by CTest as launcher.explore): usage errors,
# each kind of failing run (exit status, signal, hang, stdout that differs),
# a passing program, --keep-going, --minimize without a preemption count, and
# that the printed replay command fails the same way, with the same stack
# and environment addresses (no address-space randomisation, the same
# environment). The programs (scripts/explore/test-programs/) are ordinary C
# programs that know nothing of ptshim.
#
#   bash scripts/check-explore.sh BUILD_DIR
set -uo pipefail
build_dir=$(readlink -f -- "${1:?usage: check-explore.sh BUILD_DIR}")
launcher=$build_dir/bin/ptshim
progs=$build_dir/explore-tests
# shellcheck source=scripts/check-lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/check-lib.sh"

# run NAME STATUS command...: runs it (stdout in $tmp/out, stderr in $tmp/err);
# false, with a FAIL line, unless its exit status is STATUS.
run() {
  local name=$1 want=$2 status
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  status=$?
  if [[ $status != "$want" ]]; then
    bad "$name" "exit status $status, expected $want" "stdout: $(<"$tmp/out")" "stderr: $(<"$tmp/err")"
    return 1
  fi
}
# has NAME FILE REGEX...: every regex matches a line of FILE.
has() {
  local name=$1 file=$2 re
  shift 2
  for re in "$@"; do
    if ! grep -Eq -- "$re" "$file"; then
      bad "$name" "no line matches: $re" "$(basename "$file"): $(<"$file")"
      return 1
    fi
  done
  ok "$name"
}

# Usage errors: exit status 2 and exactly one line naming what is wrong.
usage_error() { # name regex args...
  local name=$1 re=$2
  shift 2
  run "$name" 2 "$launcher" explore "$@" || return
  if [[ -s $tmp/out || $(wc -l <"$tmp/err") != 1 ]] || ! grep -Eq -- "$re" "$tmp/err"; then
    bad "$name" "expected one line on stderr matching: $re" "stdout: $(<"$tmp/out")" \
      "stderr: $(<"$tmp/err")"
    return
  fi
  ok "$name"
}
usage_error usage-no-dashdash '^ptshim explore: missing -- PROGRAM ' --runs=3
usage_error usage-no-program '^ptshim explore: missing the program after -- ' --
usage_error usage-program-first "^ptshim explore: 'true': the program comes after -- " true
usage_error usage-bad-sched "^ptshim explore: invalid --sched 'foo': " --sched=foo -- true
usage_error usage-fifo "^ptshim explore: invalid --sched 'fifo': " --sched=fifo -- true
usage_error usage-pct-0 "^ptshim explore: invalid --sched 'pct:0': " --sched=pct:0 -- true
usage_error usage-bad-runs "^ptshim explore: invalid --runs '-1': " --runs=-1 -- true
usage_error usage-bad-jobs "^ptshim explore: invalid --jobs 'x': " --jobs x -- true
usage_error usage-bad-timeout "^ptshim explore: invalid --timeout '0': " --timeout=0 -- true
usage_error usage-bad-minimize "^ptshim explore: invalid --minimize 'x': " --minimize x -- true
usage_error usage-unknown "^ptshim explore: unknown option '--bogus' " --bogus -- true
usage_error usage-missing-value "^ptshim explore: option '--runs' needs a value$" --runs
usage_error usage-no-such-program '^ptshim explore: ./no/such/prog: no such program$' -- ./no/such/prog

# The replay command printed for a failure, as words for eval.
replay_of() { sed -n 's/^  replay:   //p' "$tmp/out" | head -n 1; }

# A program that exits 1: found with seed 1; its replay fails the same way.
if run exit-one 1 "$launcher" explore --runs=20 -- "$progs/explore-exit_one"; then
  has exit-one "$tmp/out" '^ptshim explore: seed 1 fails: exit status 1$' \
    '^    \| exit_one: the worker says the check failed$' \
    "^  replay:   $launcher --sched=random --seed=1 -- $progs/explore-exit_one\$" \
    '^  replayed once: the same failure, the same digest$' \
    '^ptshim explore: 1 run .*: 1 failure, the first with seed 1$'
  replay=$(replay_of)
  if run exit-one-replay 1 eval "$replay"; then
    has exit-one-replay "$tmp/err" '^exit_one: the worker says the check failed$'
  fi
fi

# A program that aborts: killed by SIGABRT, with ptshim's report; the replay
# dies the same way (128 + 6).
if run aborts 1 "$launcher" explore --runs=20 -- "$progs/explore-aborts"; then
  has aborts "$tmp/out" '^ptshim explore: seed 1 fails: killed by SIGABRT; report: ptshim: SIGABRT in thread 2 "worker"$' \
    '^    \| ptshim: SIGABRT in thread 2 "worker"$'
  replay=$(replay_of)
  if run aborts-replay 134 bash -c "$replay; exit \$?"; then
    has aborts-replay "$tmp/err" '^ptshim: SIGABRT in thread 2 "worker"$'
  fi
fi

# A program that hangs: past --timeout, ptshim's thread dump, then killed.
if run hangs 1 "$launcher" explore --runs=4 --timeout=0.3 -- "$progs/explore-hangs"; then
  has hangs "$tmp/out" '^ptshim explore: seed 1 fails: timed out after 0.3 s \(a hang\)$' \
    '^    \| ptshim: end of thread dump$' '^  replayed once: not tried \(a hang\)$' \
    '^  minimize: .* explore --sched=random --timeout=0.3 --minimize=1 -- '
fi

# A program that passes: every seed run, exit 0.
if run passes 0 "$launcher" explore --runs=60 --jobs=3 -- "$progs/explore-passes"; then
  has passes "$tmp/out" '^ptshim explore: 60 runs \(random, 3 at a time\), .*: no failure$'
fi
if run passes-pct 0 "$launcher" explore --runs=10 --sched=pct:2 -- "$progs/explore-passes"; then
  has passes-pct "$tmp/out" '^ptshim explore: 10 runs \(pct:2, .*: no failure$'
fi

# An output that differs from run to run: the second seed differs from the first's.
if run stdout-must-match 1 "$launcher" explore --runs=10 --stdout-must-match --jobs=1 -- \
  "$progs/explore-prints_pid"; then
  has stdout-must-match "$tmp/out" "^ptshim explore: seed 2 fails: stdout differs from seed 1's" \
    '^  stdout, line 1: "pid [0-9]+", seed 1 printed "pid [0-9]+"$'
fi
run stdout-not-compared 0 "$launcher" explore --runs=10 -- "$progs/explore-prints_pid" &&
  ok stdout-not-compared

# --keep-going: every seed runs and every failure is reported. The program
# fails on every third invocation, counting explore's second run of each
# failing seed (its replay check), so how many fail depends on the timing;
# without --keep-going and one job: seeds 1 and 2 pass, 3 fails, and its
# second run (the 4th invocation) passes, which explore says.
if run keep-going 1 "$launcher" explore --runs=9 --keep-going -- \
  "$progs/explore-fails_every_third" "$tmp/count1"; then
  blocks=$(grep -c '^ptshim explore: seed [0-9]* fails: exit status 1$' "$tmp/out")
  checks=$(grep -c '^  replayed once: ' "$tmp/out")
  if ((blocks >= 2 && checks == blocks)); then
    has keep-going "$tmp/out" "^ptshim explore: 9 runs .*: $blocks failures, the first with seed [0-9]+\$"
  else
    bad keep-going "expected 2 or more failures, each checked once" "$(<"$tmp/out")"
  fi
fi
if run stops-at-first 1 "$launcher" explore --runs=9 --jobs=1 -- \
  "$progs/explore-fails_every_third" "$tmp/count2"; then
  has stops-at-first "$tmp/out" '^ptshim explore: seed 3 fails: exit status 1$' \
    '^  replayed once: NOT the same: it passed$' \
    '^ptshim explore: 3 runs .*: 1 failure, the first with seed 3$'
fi

# --minimize: a seed that does not fail; one whose schedule line has no
# preemptions= count (this library prints none yet) is reported, not minimized.
if run minimize-passing 0 "$launcher" explore --minimize 5 -- "$progs/explore-passes"; then
  has minimize-passing "$tmp/out" '^ptshim explore: seed 5 does not fail; nothing to minimize$'
fi
if run minimize-exit-one 1 "$launcher" explore --minimize=4 -- "$progs/explore-exit_one"; then
  has minimize-exit-one "$tmp/out" '^ptshim explore: seed 4 fails: exit status 1$' \
    '^  replay:   .* --sched=random --seed=4 -- '
fi

if run minimize-stdout 1 "$launcher" explore --stdout-must-match --minimize=2 -- \
  "$progs/explore-prints_pid"; then
  has minimize-stdout "$tmp/out" "^ptshim explore: seed 2 fails: stdout differs from seed 1's" \
    '^ptshim explore: seed 2 fails \(stdout\) with 0 of its 0 preemptions'
fi

# The replay runs the program as explore did: the same stack and environment
# addresses (address-space randomisation off, the same environment).
if run same-addresses 1 "$launcher" explore --runs=1 -- "$progs/explore-stack_address"; then
  explored=$(sed -n 's/^    | \(stack .*\)$/\1/p' "$tmp/out")
  replay=$(replay_of)
  if run same-addresses-replay 1 eval "$replay"; then
    replayed=$(grep '^stack' "$tmp/err")
    again=$(eval "$replay" 2>&1 | grep '^stack')
    if [[ -n $explored && $explored == "$replayed" && $replayed == "$again" ]]; then
      ok same-addresses
    else
      bad same-addresses "explore: $explored" "replay:  $replayed" "again:   $again"
    fi
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
