#!/usr/bin/env bash
# Build ptshim if needed, then run each benchmark RUNS times three ways:
#   native   the program as it is (all CPUs)
#   pinned   natively, pinned to one CPU (taskset -c 0)
#   shim     under ptshim (build/bin/ptshim --)
# and print a table of the medians of ns_per_op with the ratios
# shim/native and shim/pinned.
#
#   bash scripts/bench.sh [NAME...]     # default: every bench/*.c
#
# Environment:
#   RUNS=5              runs per benchmark and way
#   BENCH_ITERATIONS=N  iteration count passed to every benchmark
#                       (default: each benchmark's own, about 1 s natively)
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
build_dir=${PTSHIM_BUILD_DIR:-$root/build}
runs=${RUNS:-5}
iterations=${BENCH_ITERATIONS:-}

[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench: RUNS must be a positive integer" >&2; exit 2; }

bash "$root/scripts/setup.sh"

names=("$@")
if ((${#names[@]} == 0)); then
  for src in "$root"/bench/*.c; do
    names+=("$(basename -- "$src" .c)")
  done
fi
for name in "${names[@]}"; do
  [[ -x $build_dir/bin/bench-$name ]] || { echo "bench: no benchmark '$name'" >&2; exit 2; }
done

# One run: prints the ns_per_op value, or nothing if the run failed.
run_once() { # way name
  local way=$1 exe=$build_dir/bin/bench-$2 out
  local cmd=("$exe")
  [[ -z $iterations ]] || cmd+=("$iterations")
  case $way in
    native) ;;
    pinned) cmd=(taskset -c 0 "${cmd[@]}") ;;
    shim) cmd=("$build_dir/bin/ptshim" -- "${cmd[@]}") ;;
  esac
  if ! out=$("${cmd[@]}" </dev/null); then
    echo "bench: $way $2 failed" >&2
    return 0
  fi
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^ns_per_op=/) { sub(/^ns_per_op=/, "", $i); print $i; exit } }' \
    <<<"$out"
}

median() { # values, one a line, on stdin; prints "-" when there are none
  sort -g | awk '{ v[NR] = $1 }
    END {
      if (NR == 0) { print "-"; exit }
      if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

ways=(native pinned shim)
results=() # "name native pinned shim"
failed=0
for name in "${names[@]}"; do
  line=$name
  for way in "${ways[@]}"; do
    values=
    for ((i = 0; i < runs; i++)); do
      v=$(run_once "$way" "$name")
      [[ -n $v ]] && values+=$v$'\n'
    done
    m=$(printf '%s' "$values" | median)
    [[ $m != - ]] || failed=1
    line+=" $m"
    printf 'bench: %-16s %-6s median %s ns/op of %d runs\n' "$name" "$way" "$m" "$runs" >&2
  done
  results+=("$line")
done

echo
printf '%s\n' "${results[@]}" | awk -v runs="$runs" '
  function ratio(a, b) { return (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.3g", a / b) }
  function ns(v) { return v == "-" ? "FAILED" : sprintf("%.1f", v) }
  BEGIN {
    printf "median ns per op over %d runs\n", runs
    printf "%-18s %12s %12s %12s %12s %12s\n", "benchmark", "native", "pinned", "shim", "shim/native", "shim/pinned"
  }
  { printf "%-18s %12s %12s %12s %12s %12s\n", $1, ns($2), ns($3), ns($4), ratio($4, $2), ratio($4, $3) }'
exit "$failed"
