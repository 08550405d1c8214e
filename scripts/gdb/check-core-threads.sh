#!/usr/bin/env bash
# scripts/gdb/ptshim_gdb/core_threads.py on real cores: an ordinary program
# (scripts/gdb/tests/parked-and-crash.c, no ptshim) crashes with a second
# thread parked in a known function; its core gets extra threads with that
# thread's registers, and gdb must show them with its backtrace
# (scripts/gdb/tests/check_core_threads.py has the checks).
#
# Two cores when the system allows: one written by the kernel (when
# /proc/sys/kernel/core_pattern is a file name, not a pipe to a crash
# handler such as systemd-coredump), and one by gdb's gcore at the signal,
# which always works and whose notes are laid out differently.
#
#   bash scripts/gdb/check-core-threads.sh PROGRAM
set -uo pipefail
program=$(readlink -f -- "${1:?usage: check-core-threads.sh PROGRAM}")
source_dir=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/../.." && pwd)
# shellcheck source=scripts/check-lib.sh
source "$source_dir/scripts/check-lib.sh"

# shellcheck source=scripts/gdb/kernel-core.sh
source "$source_dir/scripts/gdb/kernel-core.sh"

# A core written by gdb itself when PROGRAM stops at its SIGABRT.
gdb_core() { # dir
  gdb -batch -nx -ex 'set debuginfod enabled off' -ex 'set startup-with-shell off' \
    -ex run -ex "gcore $1/core" "$program" >"$1/gdb.log" 2>&1
  if [[ -s $1/core ]]; then echo "$1/core"; else cat "$1/gdb.log" >&2; return 1; fi
}

cores=0
for how in kernel gdb; do
  mkdir -p "$tmp/$how"
  if core=$("${how}_core" "$tmp/$how" "$program" 2>"$tmp/$how/why"); then
    cores=$((cores + 1))
    echo "--- core written by $how"
    python3 "$source_dir/scripts/gdb/tests/check_core_threads.py" "$program" "$core" "$tmp/$how" >"$tmp/$how/out"
    status=$?
    cat "$tmp/$how/out"
    passed=$((passed + $(grep -c '^ok ' "$tmp/$how/out")))
    failed=$((failed + $(grep -c '^FAIL ' "$tmp/$how/out")))
    if ((status != 0)) && ! grep -q '^FAIL ' "$tmp/$how/out"; then bad "$how-core-checks" "exit status $status"; fi
  else
    echo "--- no core written by $how: $(cat "$tmp/$how/why")"
  fi
done
if ((cores > 0)); then ok a-core-to-check; else bad a-core-to-check "neither the kernel nor gdb wrote a core"; fi
echo "$passed passed, $failed failed"
((failed == 0))
