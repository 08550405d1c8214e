#!/usr/bin/env bash
# Real multi-threaded programs from Debian under ptshim: output must be
# byte-identical to the native run.
#   programs.sh check LIB [MB]   the CTest case (label "programs"): small data, identity only
#   programs.sh bench LIB [MB]   also times each run natively, pinned to one CPU, and
#                                under the shim (median of RUNS=3), and prints a table
# Installs the programs it needs (pigz zstd lbzip2 xz-utils; sort is coreutils;
# strace, to prove each ran on one kernel thread: natively it must create
# threads (clone with CLONE_THREAD), under the shim none).
set -euo pipefail
mode=${1:?usage: programs.sh check|bench LIB [MB]}
lib=${2:?usage: programs.sh check|bench LIB [MB]}
mb=${3:-$([ "$mode" = bench ] && echo 40 || echo 4)}
runs=${RUNS:-3}
[ -f "$lib" ] || { echo "programs.sh: no library at $lib" >&2; exit 2; }
lib=$(readlink -f "$lib")

needed=()
for p in pigz zstd lbzip2 xz-utils strace; do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || needed+=("$p")
done
if [ ${#needed[@]} -gt 0 ]; then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ptshim-programs.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Compressible but not trivial: base64 of pseudo-random bytes, fixed seed.
head -c $((mb * 1024 * 1024 * 3 / 4)) <(openssl enc -aes-128-ctr -nosalt -pass pass:ptshim \
  -in /dev/zero 2>/dev/null || yes ptshim-data) | base64 > "$work/data"
zstd -q -T4 -c "$work/data" > "$work/data.zst"
# sort starts threads only for larger inputs (about 16 MB and up).
sort_mb=$((mb > 32 ? mb : 32))
for _ in $(seq $(((sort_mb + mb - 1) / mb))); do cat "$work/data"; done > "$work/sortdata"

commands=(
  "pigz -p 4 -c data"
  "xz -T4 -1 -c data"
  "zstd -T4 -q -c data"
  "zstd -T4 -q -d -c data.zst"
  "lbzip2 -n4 -c data"
  "sort --parallel=4 -S 64M sortdata"
)

seconds() { # command... -> elapsed seconds on stdout, output to $work/out
  local start end
  start=$(date +%s%N)
  "$@" > "$work/out"
  end=$(date +%s%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

cd "$work"
failed=0
passed=0
[ "$mode" = bench ] && printf '%-32s %9s %9s %9s %11s\n' program native pinned shim shim/pinned
for cmd in "${commands[@]}"; do
  read -r -a argv <<< "$cmd"
  "${argv[@]}" > want
  LD_PRELOAD=$lib "${argv[@]}" > got
  if ! cmp -s want got; then
    echo "FAIL: '$cmd' under ptshim: output differs from the native run"
    failed=$((failed + 1))
    continue
  fi
  if [ "$mode" = check ]; then
    strace -f -qq -e trace=clone,clone3 -o native.trace "${argv[@]}" > /dev/null
    strace -f -qq -e trace=clone,clone3 -o shim.trace env LD_PRELOAD="$lib" "${argv[@]}" > /dev/null
    native_threads=$(grep -c CLONE_THREAD native.trace || true)
    shim_threads=$(grep -c CLONE_THREAD shim.trace || true)
    if [ "$native_threads" -eq 0 ] || [ "$shim_threads" -ne 0 ]; then
      echo "FAIL: '$cmd' made $native_threads kernel threads natively, $shim_threads under ptshim (want >0, 0)"
      failed=$((failed + 1))
      continue
    fi
    echo "ok: '$cmd' byte-identical, $native_threads kernel threads natively, 1 under ptshim"
    passed=$((passed + 1))
    continue
  fi
  n=() p=() s=()
  for _ in $(seq "$runs"); do
    n+=("$(seconds "${argv[@]}")")
    p+=("$(seconds taskset -c 0 "${argv[@]}")")
    s+=("$(seconds env LD_PRELOAD="$lib" "${argv[@]}")")
  done
  nm=$(echo "${n[*]}" | median) pm=$(echo "${p[*]}" | median) sm=$(echo "${s[*]}" | median)
  printf '%-32s %9s %9s %9s %11s\n' "$cmd" "$nm" "$pm" "$sm" \
    "$(awk -v s="$sm" -v p="$pm" 'BEGIN { printf "%.2f", s / p }')"
done
[ "$mode" = check ] && echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
