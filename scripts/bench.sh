#!/usr/bin/env bash
# Build ptshim if needed, then run each benchmark RUNS times three ways:
#   native   the program as it is (all CPUs)
#   pinned   natively, pinned to one CPU (taskset -c 0)
#   shim     under ptshim (build/bin/ptshim --)
# and print a table of the medians with the ratios shim/native and
# shim/pinned. Two kinds of benchmark:
#   time benchmarks  print ns_per_op (lower is better): one row, <name>
#   max_threads      prints threads (higher is better) and kib_per_thread
#                    (resident KiB per thread, lower is better): two rows,
#                    max_threads.threads and max_threads.kib_per_thread
# The "better" column says which way each row improves.
#
#   bash scripts/bench.sh [NAME[=N]...]   # default: every bench/*.c
#
# NAME=N runs benchmark NAME with iteration count N (for max_threads: the
# number of threads to ask for), e.g.
#   bash scripts/bench.sh cpu_bound max_threads=20000
#
# Environment:
#   RUNS=5              runs per benchmark and way
#   MAX_THREADS_RUNS=1  runs per way of max_threads (it is slow)
#   BENCH_ITERATIONS=N  iteration count passed to every benchmark without a
#                       NAME=N of its own (default: each benchmark's own,
#                       about 1 s natively; max_threads asks for 1,000,000)
#   PTSHIM_BUILD_DIR    build directory (default: <repo>/build)
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
build_dir=${PTSHIM_BUILD_DIR:-$root/build}
runs=${RUNS:-5}
max_threads_runs=${MAX_THREADS_RUNS:-1}
iterations=${BENCH_ITERATIONS:-}

[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench: RUNS must be a positive integer" >&2; exit 2; }
[[ $max_threads_runs =~ ^[1-9][0-9]*$ ]] ||
  { echo "bench: MAX_THREADS_RUNS must be a positive integer" >&2; exit 2; }
[[ -z $iterations || $iterations =~ ^[1-9][0-9]*$ ]] ||
  { echo "bench: BENCH_ITERATIONS must be a positive integer" >&2; exit 2; }

bash "$root/scripts/setup.sh"

names=()
declare -A count # name -> iteration count from a NAME=N argument
for arg in "$@"; do
  if [[ $arg == *=* ]]; then
    n=${arg#*=}
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: $arg: N must be a positive integer" >&2; exit 2; }
    names+=("${arg%%=*}")
    count[${arg%%=*}]=$n
  else
    names+=("$arg")
  fi
done
if ((${#names[@]} == 0)); then
  for src in "$root"/bench/*.c; do
    names+=("$(basename -- "$src" .c)")
  done
fi
for name in "${names[@]}"; do
  [[ -x $build_dir/bin/bench-$name ]] || { echo "bench: no benchmark '$name'" >&2; exit 2; }
done

# The rows a benchmark contributes to the table, one a line:
#   row field-in-its-output better printf-format
metrics() { # name
  case $1 in
    max_threads)
      echo "$1.threads threads higher %.0f"
      echo "$1.kib_per_thread kib_per_thread lower %.2f"
      ;;
    *) echo "$1 ns_per_op lower %.1f" ;;
  esac
}

# One run: prints the benchmark's output line, or nothing if the run failed.
run_once() { # way name
  local way=$1 exe=$build_dir/bin/bench-$2 out n=${count[$2]:-$iterations}
  local cmd=("$exe")
  [[ -z $n ]] || cmd+=("$n")
  case $way in
    native) ;;
    pinned) cmd=(taskset -c 0 "${cmd[@]}") ;;
    shim) cmd=("$build_dir/bin/ptshim" -- "${cmd[@]}") ;;
  esac
  if ! out=$("${cmd[@]}" </dev/null); then
    echo "bench: $way $2 failed" >&2
    return 0
  fi
  printf '%s\n' "$out"
}

# The value of field=value in an output line; nothing if it has none.
field() { # field line
  awk -v key="$1=" '{ for (i = 1; i <= NF; i++)
    if (index($i, key) == 1) { print substr($i, length(key) + 1); exit } }' <<<"$2"
}

median() { # values, one a line, on stdin; prints "-" when there are none
  sort -g | awk '{ v[NR] = $1 }
    END {
      if (NR == 0) { print "-"; exit }
      if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
    }'
}

ways=(native pinned shim)
results=() # "row better format native pinned shim runs"
failed=0
for name in "${names[@]}"; do
  n=$runs
  [[ $name != max_threads ]] || n=$max_threads_runs
  mapfile -t rows < <(metrics "$name")
  declare -A values=() # "row way" -> values, one a line
  for way in "${ways[@]}"; do
    for ((i = 0; i < n; i++)); do
      out=$(run_once "$way" "$name")
      for spec in "${rows[@]}"; do
        read -r row key _ _ <<<"$spec"
        v=
        [[ -z $out ]] || v=$(field "$key" "$out")
        [[ -z $v ]] || values["$row $way"]+=$v$'\n'
      done
    done
  done
  for spec in "${rows[@]}"; do
    read -r row key better format <<<"$spec"
    line="$row $better $format"
    for way in "${ways[@]}"; do
      m=$(printf '%s' "${values["$row $way"]:-}" | median)
      [[ $m != - ]] || failed=1
      line+=" $m"
      printf 'bench: %-28s %-6s median %s %s of %d runs\n' "$row" "$way" "$m" "$key" "$n" >&2
    done
    results+=("$line")
  done
  unset values
done

echo
printf '%s\n' "${results[@]}" | awk -v runs="$runs" -v mruns="$max_threads_runs" '
  function ratio(a, b) { return (a == "-" || b == "-" || b == 0) ? "-" : sprintf("%.3g", a / b) }
  function val(v, format) { return v == "-" ? "FAILED" : sprintf(format, v) }
  BEGIN {
    printf "medians over %d runs (max_threads: %d); ns per op unless the row says otherwise\n", runs, mruns
    printf "%-28s %6s %12s %12s %12s %12s %12s\n", "benchmark", "better", "native", "pinned", "shim", "shim/native", "shim/pinned"
  }
  { printf "%-28s %6s %12s %12s %12s %12s %12s\n", $1, $2, val($4, $3), val($5, $3), val($6, $3), ratio($6, $4), ratio($6, $5) }'
exit "$failed"
