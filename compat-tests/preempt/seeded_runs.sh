#!/usr/bin/env bash
# Runs one compatibility-test program under the shim with seeds 1..N
# (PTSHIM_SEED) and checks what a seeded run promises: the same seed makes
# the same run (stdout and exit status), and, with --expect-some-fail, some
# seed breaks the program (it exits 1), or, with --expect-all-pass, none does.
# A run that dies by a signal, prints a ptshim report or fails its
# one-kernel-thread check fails the test whatever the mode.
#
# usage: seeded_runs.sh --lib PATH [--seeds N] [--env VAR=VALUE]...
#                       (--expect-some-fail | --expect-all-pass)
#                       [--replays K] -- PROGRAM [ARGS...]
#   --replays K   how many seeds are run a second time and compared (default
#                 10: the failing ones first, then the lowest)
set -u
lib="" seeds=200 mode="" replays=10
envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --expect-some-fail) mode=some-fail; shift ;;
    --expect-all-pass) mode=all-pass; shift ;;
    --replays) replays=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "seeded_runs.sh: unknown option '$1'" >&2; exit 64 ;;
  esac
done
[ -n "$lib" ] && [ -n "$mode" ] && [ $# -ge 1 ] || { echo "seeded_runs.sh: bad usage" >&2; exit 64; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

one() { # seed tag: runs the program; leaves tag.out, tag.err and tag.rc in $out
  local seed=$1 tag=$2
  env "${envs[@]}" PTSHIM_SEED="$seed" LD_PRELOAD="$lib" timeout 60 "${program[@]}" \
    >"$out/$tag.out" 2>"$out/$tag.err"
  echo $? >"$out/$tag.rc"
}
program=("$@")
failing=()
bad=0
for seed in $(seq 1 "$seeds"); do
  one "$seed" "s$seed"
  rc=$(cat "$out/s$seed.rc")
  if [ "$rc" -gt 1 ] || grep -qE 'CHECK FAILED|^ptshim: (crash|deadlock|stack overflow|SIG)' "$out/s$seed.err"; then
    echo "FAIL: seed $seed: exit status $rc"
    cat "$out/s$seed.out" "$out/s$seed.err"
    bad=1
    break
  fi
  [ "$rc" = 1 ] && failing+=("$seed")
done
[ $bad = 0 ] || exit 1
echo "seeded_runs: ${#failing[@]} of $seeds seeds fail: ${failing[*]:0:20}"
replay=("${failing[@]:0:$replays}")
for seed in $(seq 1 "$seeds"); do
  [ ${#replay[@]} -ge "$replays" ] && break
  [ "$(cat "$out/s$seed.rc")" = 0 ] && replay+=("$seed")
done
for seed in "${replay[@]}"; do
  one "$seed" "r$seed"
  if ! cmp -s "$out/s$seed.out" "$out/r$seed.out" || ! cmp -s "$out/s$seed.rc" "$out/r$seed.rc"; then
    echo "FAIL: seed $seed ran differently the second time:"
    echo "first (exit $(cat "$out/s$seed.rc")):"; cat "$out/s$seed.out"
    echo "second (exit $(cat "$out/r$seed.rc")):"; cat "$out/r$seed.out" "$out/r$seed.err"
    exit 1
  fi
  echo "seeded_runs: seed $seed replays: exit $(cat "$out/s$seed.rc"), $(head -c 200 "$out/s$seed.out" | tr '\n' ' ')"
done
if [ $mode = some-fail ] && [ ${#failing[@]} = 0 ]; then
  echo "FAIL: no seed of $seeds broke the program"
  exit 1
fi
if [ $mode = all-pass ] && [ ${#failing[@]} != 0 ]; then
  echo "FAIL: seeds ${failing[*]} broke the program:"
  cat "$out/s${failing[0]}.out" "$out/s${failing[0]}.err"
  exit 1
fi
echo "PASS"
