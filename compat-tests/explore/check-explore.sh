#!/usr/bin/env bash
# One buggy program of compat-tests/explore and its fixed twin against
# `ptshim explore` (CTest explore.<name>). For each policy given:
#   1. `ptshim explore --runs=N --sched=POLICY -- PROGRAM` finds a failing
#      seed (exit status 1) and prints its replay command (a line
#      `replay: COMMAND`, indented or not);
#   2. that command, run R times, fails every time, and the same way: the
#      same exit status, stdout and stderr (which holds the schedule's
#      digest line), hexadecimal addresses aside;
#   3. `ptshim explore --runs=N --sched=POLICY -- PROGRAM_fixed` passes every
#      seed (exit status 0), for each policy of --fixed-sched.
# Then the fixed twin passes natively R times, and a seeded run of it makes
# no kernel thread under the shim while natively it makes some
# (scripts/one-kernel-thread.sh; the programs do not check that themselves).
#
# usage: check-explore.sh --ptshim LAUNCHER --lib LIBRARY [--sched POLICY]...
#                         [--fixed-sched POLICY]... [--runs N] [--replays R] PROGRAM
#   --sched   a policy of explore (random, pct, pct:D); repeatable;
#             default: random and pct
#   --fixed-sched  the policies the fixed twin is explored with (repeatable;
#             default: those of --sched)
#   --runs    seeds per explore run (default 1000)
#   --replays runs of the replay command (default 20)
# PROGRAM_fixed is the twin. Exit status: 0 all good, 1 a check failed,
# 77 (skipped) when the launcher has no explore subcommand yet, 2 usage.
set -u

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
one_kernel_thread=$here/../../scripts/one-kernel-thread.sh
. "$here/explore-lib.sh"
ptshim='' lib='' runs=1000 replays=20 scheds=() fixed_scheds=()

usage() { echo "usage: check-explore.sh --ptshim LAUNCHER --lib LIBRARY [--sched POLICY]... [--runs N] [--replays R] PROGRAM" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --ptshim) ptshim=${2?}; shift 2 ;;
    --lib) lib=${2?}; shift 2 ;;
    --sched) scheds+=("${2?}"); shift 2 ;;
    --fixed-sched) fixed_scheds+=("${2?}"); shift 2 ;;
    --runs) runs=${2?}; shift 2 ;;
    --replays) replays=${2?}; shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] && [ -n "$ptshim" ] && [ -n "$lib" ] || usage
program=$1 fixed=${1}_fixed name=$(basename -- "$1")
[ ${#scheds[@]} -gt 0 ] || scheds=(random pct)
[ ${#fixed_scheds[@]} -gt 0 ] || fixed_scheds=("${scheds[@]}")
for f in "$ptshim" "$lib" "$program" "$fixed"; do
  [ -e "$f" ] || { echo "FAIL: $f does not exist (build first)"; exit 1; }
done

if ! "$ptshim" explore --help >/dev/null 2>&1; then
  echo "SKIP: $ptshim has no explore subcommand (ptshim explore --help fails)"
  exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptshim-explore.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
ulimit -c 0
failed=0
fail() { echo "FAIL: $name: $*"; failed=1; }

for sched in "${scheds[@]}"; do
  # 1. explore finds a failing seed.
  "$ptshim" explore --runs="$runs" --sched="$sched" -- "$program" >"$tmp/explore" 2>&1 </dev/null
  status=$?
  if [ $status -ne 1 ]; then
    fail "ptshim explore --sched=$sched over $runs seeds exited $status, want 1 (a failing seed found)"
    tail -n 30 "$tmp/explore"
    continue
  fi
  replay=$(explore_replay "$tmp/explore")
  if [ -z "$replay" ]; then
    fail "ptshim explore --sched=$sched printed no replay line"
    cat "$tmp/explore"
    continue
  fi
  seed=$(replay_seed "$replay")

  # 2. the replay fails the same way every time.
  same=0
  for i in $(seq "$replays"); do
    # The outer 2>/dev/null silences bash's own report of a signal death.
    { timeout --kill-after=5 60 bash -c "$replay" >"$tmp/out" 2>"$tmp/err" </dev/null; } 2>/dev/null
    status=$?
    run_signature "$tmp/out" "$tmp/err" $status >"$tmp/sig.$i"
    if [ $status -eq 0 ]; then
      fail "replay $i of seed $seed passed: $replay"
      cat "$tmp/err"
      break
    fi
    if ! grep -q '^ptshim: schedule seed=' "$tmp/err"; then
      fail "replay $i of seed $seed printed no 'ptshim: schedule seed=' line: $replay"
      cat "$tmp/err"
      break
    fi
    if ! cmp -s "$tmp/sig.1" "$tmp/sig.$i"; then
      fail "replay $i of seed $seed ended otherwise than replay 1: $replay"
      diff "$tmp/sig.1" "$tmp/sig.$i" | head -n 40
      break
    fi
    same=$i
  done
  [ "$same" -eq "$replays" ] || continue
  echo "ok: $name, --sched=$sched: seed $seed fails, its replay failed the same way $replays/$replays" \
    "($(grep -m1 '^ptshim: schedule seed=' "$tmp/err"))"
done

# 3. the fixed twin passes every seed.
for sched in "${fixed_scheds[@]}"; do
  "$ptshim" explore --runs="$runs" --sched="$sched" -- "$fixed" >"$tmp/explore-fixed" 2>&1 </dev/null
  status=$?
  if [ $status -ne 0 ]; then
    fail "the fixed twin: ptshim explore --sched=$sched over $runs seeds exited $status, want 0"
    tail -n 30 "$tmp/explore-fixed"
  else
    echo "ok: ${name}_fixed, --sched=$sched: passed $runs seeds"
  fi
done

# The fixed twin is fixed natively too, and the shim runs it on one kernel thread.
for i in $(seq "$replays"); do
  if ! timeout --kill-after=5 60 "$fixed" >"$tmp/out" 2>"$tmp/err" </dev/null; then
    fail "the fixed twin failed natively (run $i)"
    cat "$tmp/err"
    break
  fi
done
if ! bash "$one_kernel_thread" "$lib" env PTSHIM_SCHED="${scheds[0]}" PTSHIM_SEED=1 "$fixed" \
  >"$tmp/okt" 2>&1; then
  fail "one kernel thread: $(tail -n 5 "$tmp/okt")"
else
  tail -n 1 "$tmp/okt"
fi
exit $failed
