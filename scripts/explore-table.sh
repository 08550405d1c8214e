#!/usr/bin/env bash
# Measures the buggy programs of compat-tests/explore and prints the table of
# issue 14's closing note, one row per program:
#   native /N      failures in N runs without ptshim
#   default /N     failures in N runs under ptshim's default policy (fifo,
#                  LD_PRELOAD, no seed)
#   random, pct    the first failing seed `ptshim explore --runs=N` reports
#                  with that policy ("none" if no seed of 1..N fails)
#   replay         for random, then pct: how many of R runs of the replay
#                  command fail the way its first run does (same status,
#                  stdout and stderr, addresses aside)
#   fixed          failures of the fixed twin: native /N, and the explore
#                  verdict of both policies over N seeds
# A run fails when it exits non-zero, dies by a signal or runs past the
# timeout (a hang: the native lock-order deadlock). Runs go J at a time
# (xargs -P), which loads the machine as a busy one would: the native rates
# depend on J.
#
# usage: scripts/explore-table.sh [--runs N] [--jobs J] [--replays R] [--timeout S]
#                                 [--only NAME]... [BUILD_DIR]
#   defaults: N 1000, J twice the CPU count, R 20, S 3 (seconds, native and
#   default-policy runs); BUILD_DIR build/ (PTSHIM_BUILD_DIR). Builds first.
#   Without `ptshim explore` (not merged yet) its columns read "n/a".
set -uo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
. "$root/compat-tests/explore/explore-lib.sh"

runs=1000 jobs=$(($(nproc) * 2)) replays=20 timeout_s=3 only=()
build_dir=${PTSHIM_BUILD_DIR:-$root/build}
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=${2?}; shift 2 ;;
    --jobs) jobs=${2?}; shift 2 ;;
    --replays) replays=${2?}; shift 2 ;;
    --timeout) timeout_s=${2?}; shift 2 ;;
    --only) only+=("${2?}"); shift 2 ;;
    -h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "explore-table.sh: unknown option '$1'" >&2; exit 2 ;;
    *) build_dir=$1; shift ;;
  esac
done

PTSHIM_BUILD_DIR=$build_dir bash "$root/scripts/setup.sh" || exit 1
ptshim=$build_dir/bin/ptshim
lib=$build_dir/lib/libptshim.so
dir=$build_dir/compat-tests/explore
names=()
if [ ${#only[@]} -gt 0 ]; then
  names=("${only[@]}")
else
  # The order of compat-tests/explore/CMakeLists.txt.
  for n in $(sed -n '/^set(PTSHIM_EXPLORE_PROGRAMS/,/)/p' "$root/compat-tests/explore/CMakeLists.txt" |
    sed 's/^set(PTSHIM_EXPLORE_PROGRAMS//; s/)//'); do
    names+=("$n")
  done
fi
have_explore=1
"$ptshim" explore --help >/dev/null 2>&1 || have_explore=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptshim-table.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
ulimit -c 0

# Failures among N runs of a command, J at a time.
failures() { # command...
  seq "$runs" | xargs -P "$jobs" -I{} sh -c \
    'timeout --kill-after=1 '"$timeout_s"' "$@" >/dev/null 2>&1 </dev/null || echo x' sh "$@" |
    wc -l
}

# The first failing seed explore finds with a policy; leaves its output in
# $tmp/explore.<policy>.
first_seed() { # program policy
  [ $have_explore -eq 1 ] || { echo n/a; return; }
  "$ptshim" explore --runs="$runs" --sched="$2" -- "$1" >"$tmp/explore.$2" 2>&1 </dev/null
  case $? in
    0) echo none ;;
    1) local seed
       seed=$(replay_seed "$(explore_replay "$tmp/explore.$2")")
       echo "${seed:-?}" ;;
    *) echo "error $?" ;;
  esac
}

# Runs of the replay command in $tmp/explore.<policy> that fail as its first did.
replay_count() { # policy
  local replay
  replay=$(explore_replay "$tmp/explore.$1" 2>/dev/null)
  [ -n "$replay" ] || { echo n/a; return; }
  local same=0 i status
  for i in $(seq "$replays"); do
    { timeout --kill-after=5 60 bash -c "$replay" >"$tmp/out" 2>"$tmp/err" </dev/null; } 2>/dev/null
    status=$?
    run_signature "$tmp/out" "$tmp/err" $status >"$tmp/sig.$i"
    [ $status -ne 0 ] && cmp -s "$tmp/sig.1" "$tmp/sig.$i" && same=$((same + 1))
  done
  echo "$same/$replays"
}

# The fixed twin's explore verdicts with both policies.
fixed_explore() { # program
  [ $have_explore -eq 1 ] || { echo n/a; return; }
  local verdicts=() policy
  for policy in random pct; do
    "$ptshim" explore --runs="$runs" --sched="$policy" -- "$1" >/dev/null 2>&1 </dev/null
    case $? in
      0) verdicts+=("pass") ;;
      1) verdicts+=("FAIL") ;;
      *) verdicts+=("error") ;;
    esac
  done
  local IFS=/
  echo "${verdicts[*]}"
}

echo "runs: $runs per cell, $jobs at a time on $(nproc) CPUs; $(date -u +%Y-%m-%dT%H:%MZ); $(git -C "$root" rev-parse --short HEAD)"
echo
echo "| program | native /$runs | default policy /$runs | first failing seed, random | first failing seed, pct | replay, random, pct | fixed twin: native /$runs, explore random/pct |"
echo "|---|---|---|---|---|---|---|"
for name in "${names[@]}"; do
  program=$dir/explore_$name
  [ -x "$program" ] || { echo "explore-table.sh: no $program" >&2; exit 1; }
  native=$(failures "$program")
  default=$(failures env LD_PRELOAD="$lib" "$program")
  random=$(first_seed "$program" random)
  pct=$(first_seed "$program" pct)
  replay="$(replay_count random), $(replay_count pct)"
  fixed_native=$(failures "${program}_fixed")
  fixed=$(fixed_explore "${program}_fixed")
  echo "| $name | $native | $default | $random | $pct | $replay | $fixed_native, $fixed |"
done
