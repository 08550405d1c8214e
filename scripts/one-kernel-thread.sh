#!/usr/bin/env bash
# Runs PROGRAM natively and under the shim and proves the shim was in charge:
# natively it must create kernel threads (clone with CLONE_THREAD), under the
# shim none; the shim run must also succeed. For programs that cannot check
# themselves (the benchmarks).
#   one-kernel-thread.sh LIB PROGRAM [ARG]...
set -euo pipefail
lib=$(readlink -f "${1:?usage: one-kernel-thread.sh LIB PROGRAM [ARG]...}")
shift
[ $# -ge 1 ] || { echo "usage: one-kernel-thread.sh LIB PROGRAM [ARG]..." >&2; exit 2; }
trace=$(mktemp "${TMPDIR:-/tmp}/ptshim-trace.XXXXXX")
trap 'rm -f "$trace"' EXIT
strace -f -qq -e trace=clone,clone3 -o "$trace" "$@" > /dev/null
native=$(grep -c CLONE_THREAD "$trace" || true)
strace -f -qq -e trace=clone,clone3 -o "$trace" env LD_PRELOAD="$lib" "$@"
shim=$(grep -c CLONE_THREAD "$trace" || true)
if [ "$native" -eq 0 ] || [ "$shim" -ne 0 ]; then
  echo "FAIL: $* made $native kernel threads natively and $shim under ptshim (want >0 and 0)"
  exit 1
fi
echo "ok: $* made $native kernel threads natively, none under ptshim"
