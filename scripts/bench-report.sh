#!/usr/bin/env bash
# How long a stack overflow report takes, from the moment the program starts
# the recursion that overflows (a "t0" line it writes) to the last byte of the
# report on stderr, with and without source lines: PTSHIM_SYMBOLIZER=none,
# addr2line and llvm-symbolizer (each when installed). Three programs, built
# -O2 -g here: a small C program overflowing in a thread and in main (main's
# report has libc's frames, whose line tables are libc's debug file when
# installed), and a 4,000-frame C++ recursion in a std::thread. Prints the
# median and the largest of RUNS runs, in ms. The recursion itself is in
# every number: the none column is the report without source lines.
#
#   bash scripts/bench-report.sh        # RUNS=10 by default
# The small program's thread has a 256 KiB stack (PTSHIM_STACK_SIZE), so
# that its recursion is short; main's is RLIMIT_STACK; the C++ thread's 8 MiB.
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
build_dir=${PTSHIM_BUILD_DIR:-$root/build}
runs=${RUNS:-10}
src=$root/scripts/bench-report
[ -f "$build_dir/lib/libptshim.so" ] || bash "$root/scripts/setup.sh"
lib=$build_dir/lib/libptshim.so
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX")
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/reader" "$src/reader.c"
cc -O2 -g -pthread -o "$work/small" "$src/small.c"
c++ -O2 -g -pthread -o "$work/deep" "$src/deep.cc"
ulimit -c 0

symbolizers=(none)
for s in addr2line llvm-symbolizer; do
  p=$(command -v "$s" || true)
  [ -n "$p" ] && symbolizers+=("$p")
done

printf '%-28s' "program"
for s in "${symbolizers[@]}"; do printf '%28s' "$(basename "$s") median/max"; done
echo
for case in "256k small thread" "8m small main" "8m deep"; do
  read -r stack program args <<<"$case"
  printf '%-28s' "$program $args"
  for s in "${symbolizers[@]}"; do
    times=()
    for _ in $(seq "$runs"); do
      # shellcheck disable=SC2086
      times+=("$(env LD_PRELOAD="$lib" PTSHIM_SYMBOLIZER="$s" PTSHIM_STACK_SIZE="$stack" \
        "$work/reader" "$work/$program" $args)")
    done
    printf '%28s' "$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f / %.1f", a[int((NR+1)/2)], a[NR]}')"
  done
  echo
done
