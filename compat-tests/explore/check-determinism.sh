#!/usr/bin/env bash
# The determinism contract on the determinism program (CTest
# explore.determinism): for each policy given,
#   - 50 runs with one seed all pass and print the same stdout (the order in
#     which the 8 threads did things) and the same schedule line
#     (`ptshim: schedule seed=N decisions=K preemptions=P digest=X`, and
#     what was not controlled, if anything);
#   - seeds 1..10 give at least 5 different orders.
#
# usage: check-determinism.sh --ptshim LAUNCHER [--sched POLICY]... [--runs N] PROGRAM
#   --sched  random, pct or pct:D (repeatable; default: random and pct)
#   --runs   runs with the one seed (default 50); the seed is 1
# Exit status: 0 good, 1 a check failed, 77 (skipped) when the launcher does
# not take --sched or the run prints no schedule line yet, 2 usage.
set -u

ptshim='' runs=50 scheds=() seeds=10 min_orders=5
usage() { echo "usage: check-determinism.sh --ptshim LAUNCHER [--sched POLICY]... [--runs N] PROGRAM" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --ptshim) ptshim=${2?}; shift 2 ;;
    --sched) scheds+=("${2?}"); shift 2 ;;
    --runs) runs=${2?}; shift 2 ;;
    -*) usage ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] && [ -n "$ptshim" ] || usage
program=$1
[ ${#scheds[@]} -gt 0 ] || scheds=(random pct)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptshim-determinism.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
ulimit -c 0
failed=0

# Runs the program with a policy and seed; leaves $tmp/out, $tmp/err and
# $tmp/schedule (the schedule line), returns the exit status.
run() { # sched seed
  timeout --kill-after=5 60 "$ptshim" --sched="$1" --seed="$2" -- "$program" \
    >"$tmp/out" 2>"$tmp/err" </dev/null
  local status=$?
  grep '^ptshim: schedule seed=' "$tmp/err" >"$tmp/schedule"
  return $status
}

run "${scheds[0]}" 1
status=$?
if [ $status -eq 2 ] || [ ! -s "$tmp/schedule" ]; then
  echo "SKIP: '$ptshim --sched=${scheds[0]} --seed=1' exits $status or prints no schedule line:"
  head -n 5 "$tmp/err"
  exit 77
fi

for sched in "${scheds[@]}"; do
  ok=1
  for i in $(seq "$runs"); do
    run "$sched" 1
    status=$?
    if [ $status -ne 0 ]; then
      echo "FAIL: --sched=$sched --seed=1, run $i: exit status $status"
      cat "$tmp/err"
      ok=0
      break
    fi
    if [ "$i" -eq 1 ]; then
      cp "$tmp/out" "$tmp/out.ref"
      cp "$tmp/schedule" "$tmp/schedule.ref"
      continue
    fi
    if ! cmp -s "$tmp/out" "$tmp/out.ref" || ! cmp -s "$tmp/schedule" "$tmp/schedule.ref"; then
      echo "FAIL: --sched=$sched --seed=1: run $i differs from run 1:"
      diff "$tmp/schedule.ref" "$tmp/schedule"
      diff "$tmp/out.ref" "$tmp/out" | head -n 20
      ok=0
      break
    fi
  done
  [ $ok -eq 1 ] || { failed=1; continue; }
  echo "ok: --sched=$sched --seed=1: $runs runs, one output ($(wc -l <"$tmp/out.ref") lines), one schedule line: $(cat "$tmp/schedule.ref")"

  for seed in $(seq "$seeds"); do
    run "$sched" "$seed"
    status=$?
    if [ $status -ne 0 ]; then
      echo "FAIL: --sched=$sched --seed=$seed: exit status $status"
      cat "$tmp/err"
      ok=0
      break
    fi
    md5sum <"$tmp/out" >>"$tmp/orders.$sched"
  done
  [ $ok -eq 1 ] || { failed=1; continue; }
  orders=$(sort -u "$tmp/orders.$sched" | wc -l)
  if [ "$orders" -lt $min_orders ]; then
    echo "FAIL: --sched=$sched: seeds 1..$seeds gave $orders different orders, want at least $min_orders"
    failed=1
  else
    echo "ok: --sched=$sched: seeds 1..$seeds gave $orders different orders"
  fi
done
exit $failed
