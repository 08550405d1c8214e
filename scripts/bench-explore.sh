#!/usr/bin/env bash
# Runs per second of `ptshim explore` on a program of about 1 ms of work
# natively (bench/explore/target_1ms.c; issue 14's target: 200 runs/s on
# the project's 2-core machine). Prints the program's native work time, then
# one line per way of exploring:
#   bench=explore sched=<policy> jobs=<J> runs=<N> runs_per_s=<float> cpu_ms_per_run=<float>
# cpu_ms_per_run is the CPU time (user + system, driver and runs) per run:
# on a machine busy with other work runs_per_s drops, it does not; the
# CPU count divided by it is what the machine would do alone, at most.
#
#   bash scripts/bench-explore.sh        # RUNS=1000, JOBS="default 4"
#
# Environment:
#   RUNS=1000          seeds per explore run
#   JOBS="default 4"   the --jobs values to measure (default: the CPU count)
#   SCHEDS="random pct" the policies to measure
#   PTSHIM_BUILD_DIR   build directory (default: <repo>/build)
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
build_dir=${PTSHIM_BUILD_DIR:-$root/build}
runs=${RUNS:-1000}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench-explore: RUNS must be a positive integer" >&2; exit 2; }
read -r -a jobs_list <<<"${JOBS:-default 4}"
read -r -a scheds <<<"${SCHEDS:-random pct}"

bash "$root/scripts/setup.sh"
target=$build_dir/bin/bench-explore-target
launcher=$build_dir/bin/ptshim

# The native work time: the median of 21 runs (the program prints work_ms= on stderr).
work=$(for _ in $(seq 21); do "$target" 2>&1 >/dev/null; done | sed -n 's/^work_ms=//p' | sort -n |
  sed -n 11p)
printf 'bench=explore-target native_work_ms=%s cpus=%s\n' "$work" "$(nproc)"

for sched in "${scheds[@]}"; do
  for jobs in "${jobs_list[@]}"; do
    args=(--runs="$runs" --sched="$sched" --stdout-must-match)
    [[ $jobs == default ]] || args+=(--jobs="$jobs")
    # The CPU time of the explore run: the children's line of `times` in a
    # subshell that ran only it.
    line=$(
      out=$("$launcher" explore "${args[@]}" -- "$target" | tail -n 1)
      printf '%s\n' "$out"
      times
    )
    summary=$(head -n 1 <<<"$line")
    cpu=$(tail -n 1 <<<"$line" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/);
      print (u[1] * 60 + u[2]) + (s[1] * 60 + s[2]) }')
    rate=$(sed -n 's/.* \([0-9.]*\) runs\/s: .*/\1/p' <<<"$summary")
    used=$(sed -n 's/.*, \([0-9]*\) at a time.*/\1/p' <<<"$summary")
    printf 'bench=explore sched=%s jobs=%s runs=%s runs_per_s=%s cpu_ms_per_run=%.2f  (%s)\n' \
      "$sched" "$used" "$runs" "$rate" "$(awk -v c="$cpu" -v n="$runs" 'BEGIN { print c * 1000 / n }')" \
      "${summary#ptshim explore: }"
  done
done
