#!/usr/bin/env bash
# usage: stats_numbers.sh LIB STATS_PROGRAM
# Runs compat-tests/reports/stats.c preloaded with LIB and PTSHIM_STATS=1,
# with 100 us slices and cooperatively, and checks the numbers of the block
# it prints at exit: the parts add up to the totals, and each count lies in
# the range the program fixes (10 workers in batches of 4, 50 yields and 5
# locked rounds each, one mutex, two workers that compute for 60 ms, half of
# it in memset).
set -u
lib=$1
program=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0

fail() {
  echo "stats_numbers ($mode): $*" >&2
  failed=1
}

# A duration of the block ("12.3 us", "4.5 ms", "1.250 s") in ns.
ns() { awk -v v="$1" -v u="$2" 'BEGIN { m = u == "s" ? 1e9 : u == "ms" ? 1e6 : 1e3; printf "%d", v * m }'; }

check_run() {
  mode=$1
  shift
  if ! env LD_PRELOAD="$lib" PTSHIM_STATS=1 "$@" timeout 30 "$program" >"$out/stdout" 2>"$out/stderr"; then
    fail "the program failed"
    cat "$out/stdout" "$out/stderr" >&2
    return
  fi
  local err=$out/stderr
  [[ $(grep -c '^ptshim: stats (pid ' "$err") == 1 ]] || fail "not exactly one block"
  grep -q '^  threads: 10 created, 5 alive at most, 10 exited$' "$err" || fail "threads line"

  local line
  line=$(grep '^  switches: ' "$err")
  if [[ $line =~ ^\ \ switches:\ ([0-9]+)\ \(blocked\ ([0-9]+),\ yielded\ ([0-9]+),\ preempted\ ([0-9]+),\ made\ way\ for\ a\ higher\ priority\ ([0-9]+),\ exited\ ([0-9]+)\)$ ]]; then
    local total=${BASH_REMATCH[1]} blocked=${BASH_REMATCH[2]} yielded=${BASH_REMATCH[3]}
    preempted=${BASH_REMATCH[4]}
    local priority=${BASH_REMATCH[5]} exited=${BASH_REMATCH[6]}
    ((total == blocked + yielded + preempted + priority + exited)) ||
      fail "switches $total != $blocked + $yielded + $preempted + $priority + $exited"
    ((yielded >= 100 && yielded <= 10 * (50 + 5))) || fail "yielded $yielded, want 100..550"
    ((exited == 10 && priority == 0)) || fail "exited $exited, priority $priority"
    ((blocked >= 4)) || fail "blocked $blocked, want at least 4 (3 joins, 1 mutex wait)"
  else
    fail "switches line: $line"
  fi

  line=$(grep '^  preempted: ' "$err")
  if [[ $line =~ ^\ \ preempted:\ ([0-9]+)\ at\ ticks,\ ([0-9]+)\ at\ seeded\ instruction\ slices,\ ([0-9]+)\ at\ other\ scheduling\ points$ ]]; then
    ticks=${BASH_REMATCH[1]}
    ((ticks + BASH_REMATCH[2] + BASH_REMATCH[3] == preempted)) || fail "preempted parts: $line"
    ((BASH_REMATCH[2] == 0 && BASH_REMATCH[3] == 0)) || fail "seeded preemptions in an unseeded run"
  else
    fail "preempted line: $line"
  fi

  line=$(grep '^  deferred ticks: ' "$err")
  if [[ $line =~ ^\ \ deferred\ ticks:\ ([0-9]+)\ found\ the\ thread\ at\ an\ unsafe\ point\;\ ([0-9]+)\ taken\ at\ a\ safe\ point(\ after\ ([0-9.]+)\ (us|ms|s)\ mean,\ ([0-9.]+)\ (us|ms|s)\ max)?,\ ([0-9]+)\ overtaken\ by\ the\ thread.s\ own\ switch$ ]]; then
    deferred=${BASH_REMATCH[1]} taken=${BASH_REMATCH[2]}
    ((deferred == taken + BASH_REMATCH[8])) || fail "deferred parts: $line"
    if ((taken > 0)); then
      [[ -n ${BASH_REMATCH[3]} ]] || fail "no wait times: $line"
      (($(ns "${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}") <= $(ns "${BASH_REMATCH[6]}" "${BASH_REMATCH[7]}"))) ||
        fail "mean above max: $line"
    fi
  else
    fail "deferred line: $line"
  fi

  local waits
  line=$(grep '^  blocked: ' "$err")
  if [[ $line =~ ^\ \ blocked:\ ([0-9]+)\ waits,\ [0-9.]+\ (us|ms|s)\ summed\ over\ the\ threads:$ ]]; then
    waits=${BASH_REMATCH[1]}
    local sum
    sum=$(awk '/^  blocked: /{on=1; next} on && /^    [^ ].*: [0-9]+ waits?, /{n=$0; sub(/^.*: /, "", n); sum += n+0; next} on{exit} END{print sum+0}' "$err")
    ((sum == waits)) || fail "waits by kind add up to $sum, not $waits"
  else
    fail "blocked line: $line"
  fi
  local joins mutex_waits
  joins=$(sed -n 's/^    join: \([0-9]*\) waits\{0,1\}, .*/\1/p' "$err")
  ((${joins:-0} >= 3 && ${joins:-0} <= 10)) || fail "join waits ${joins:-none}, want 3..10"
  mutex_waits=$(sed -n 's/^    mutex: \([0-9]*\) waits\{0,1\}, .*/\1/p' "$err")
  ((${mutex_waits:-0} >= 1 && ${mutex_waits:-0} <= 10 * 5 * 4)) ||
    fail "mutex waits ${mutex_waits:-none}, want 1..200"
  grep -q '^  contended locks: 1, the busiest:$' "$err" || fail "contended locks line"
  local lock_waits
  lock_waits=$(sed -n 's/^    mutex .* (compat_stats+0x[0-9a-f]*): \([0-9]*\) waits\{0,1\}, .*/\1/p' "$err")
  [[ ${lock_waits:-x} == "${mutex_waits:-y}" ]] ||
    fail "the mutex's waits (${lock_waits:-none}) are not all mutex waits (${mutex_waits:-none})"

  case $mode in
    sliced)
      ((ticks >= 1)) || fail "no preemption at a tick in 120 ms of computing at 100 us slices"
      ((deferred >= 1 && taken >= 1)) || fail "no deferred tick taken in 60 ms of memset"
      ;;
    cooperative)
      ((preempted == 0 && deferred == 0)) || fail "preemptions without a timer"
      ;;
  esac
  ((failed)) && cat "$err" >&2
  echo "stats_numbers ($mode): $(grep -c . "$err") lines checked"
}

check_run sliced PTSHIM_TIMESLICE=100us
check_run cooperative PTSHIM_TIMESLICE=0
exit $failed
