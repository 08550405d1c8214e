#!/usr/bin/env bash
# The cost of the schedule's timeline (PTSHIM_TRACE) per switch, on
# bench/yield_pingpong (two threads that yield to each other: every yield is
# a switch). Prints
#   bench=trace way=<way> ns_per_switch=<median>   for native (pinned to one
#       CPU), shim (no trace) and shim+trace (PTSHIM_TRACE to a file in
#       $TMPDIR), medians of RUNS runs of N yields each,
#   bench=trace trace_minus_shim_ns=<difference>
#   bench=trace callgrind way=<shim|shim+trace> instructions_per_switch=<I>
#       (PTSHIM_TIMESLICE=0: cooperative, no ticks; the difference of the
#       runs with N and 2N yields per thread, divided by the 2N extra
#       switches, so start-up and exit cancel out), and their difference.
#
#   bash scripts/bench-trace.sh        # RUNS=5, N=1000000, CALLGRIND_N=20000
#
# Environment: RUNS, N, CALLGRIND_N, PTSHIM_BUILD_DIR (default <repo>/build).
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
build_dir=${PTSHIM_BUILD_DIR:-$root/build}
runs=${RUNS:-5}
n=${N:-1000000}
cg_n=${CALLGRIND_N:-20000}
for v in "$runs" "$n" "$cg_n"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench-trace: RUNS, N, CALLGRIND_N must be positive integers" >&2; exit 2; }
done

bash "$root/scripts/setup.sh"
exe=$build_dir/bin/bench-yield_pingpong
lib=$build_dir/lib/libptshim.so
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ns_of() { sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p'; }

run_way() { # way
  local i
  for ((i = 0; i < runs; i++)); do
    case $1 in
      native) taskset -c 0 "$exe" "$n" ;;
      shim) env LD_PRELOAD="$lib" "$exe" "$n" ;;
      shim+trace) env LD_PRELOAD="$lib" PTSHIM_TRACE="$work/trace.json" "$exe" "$n" ;;
    esac | ns_of
    rm -f "$work/trace.json"
  done | median
}

declare -A ns
for way in native shim shim+trace; do
  ns[$way]=$(run_way "$way")
  echo "bench=trace way=$way ns_per_switch=${ns[$way]}"
done
awk -v a="${ns[shim+trace]}" -v b="${ns[shim]}" 'BEGIN { printf "bench=trace trace_minus_shim_ns=%.1f\n", a - b }'

if ! command -v valgrind >/dev/null; then
  echo "bench-trace: no valgrind: no instruction counts" >&2
  exit 0
fi
instructions() { # iterations [VAR=VALUE...]
  local iters=$1 out=$work/cg.out
  shift
  env LD_PRELOAD="$lib" PTSHIM_TIMESLICE=0 "$@" valgrind --tool=callgrind \
    --callgrind-out-file="$out" "$exe" "$iters" >/dev/null 2>"$work/cg.err"
  sed -n 's/^summary: //p' "$out"
  rm -f "$out" "$work/trace.json"
}
declare -A per
for way in shim shim+trace; do
  extra=()
  [[ $way == shim ]] || extra=(PTSHIM_TRACE="$work/trace.json")
  one=$(instructions "$cg_n" "${extra[@]}")
  two=$(instructions $((2 * cg_n)) "${extra[@]}")
  per[$way]=$(awk -v a="$one" -v b="$two" -v n="$cg_n" 'BEGIN { printf "%.1f", (b - a) / (2 * n) }')
  echo "bench=trace callgrind way=$way instructions_per_switch=${per[$way]}"
done
awk -v a="${per[shim+trace]}" -v b="${per[shim]}" \
  'BEGIN { printf "bench=trace callgrind trace_minus_shim_instructions=%.1f\n", a - b }'
