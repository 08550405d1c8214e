#!/usr/bin/env bash
# The gdb extension's tests (CTest label gdb), run with real gdb in batch mode.
#
# usage: check-gdb.sh view BUILD_DIR
#          the library exports ptshim_debugger_view, and its view (read from
#          the library file, before any process runs) is the version the
#          extension reads and has every key it reads
#        check-gdb.sh live BUILD_DIR PROGRAM [VAR=VALUE...]
#          PROGRAM (scripts/gdb/tests/blocked.c) run under gdb with the preload
#          and the extension auto-loaded from the library: info uthreads,
#          uthread N + bt, uthread apply all, uthread, and the program still
#          ends right when continued with a user thread's registers installed
#        check-gdb.sh live-cxx BUILD_DIR PROGRAM
#          PROGRAM (scripts/gdb/tests/blocked_cxx.cc) the same way: std::thread,
#          std::async threads named after their callables as reports name
#          them, top frames the program's own (not the standard library's
#          inlined templates), and bad arguments get one line naming them
#        check-gdb.sh core BUILD_DIR PROGRAM
#          a core of PROGRAM stopped in all_blocked (gcore): info uthreads,
#          uthread 3 + bt, uthread back (needs ptshim_gdb/core_threads.py)
#        check-gdb.sh crash-core BUILD_DIR PROGRAM
#          the kernel's core of `PROGRAM crash` run with the preload (a null
#          write after all_blocked, ptshim's report, death by SIGSEGV): sleeps
#          show their time left at the crash; not checked where core_pattern
#          is a pipe (skipped: exit status 77)
#        check-gdb.sh native BUILD_DIR PROGRAM
#          the twin: the same program and commands without the preload must not
#          give what `live` checks (no user threads; gdb sees seven threads)
set -uo pipefail
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../check-lib.sh
. "$here/../check-lib.sh"

mode=${1:?usage: check-gdb.sh view|live|live-cxx|native|core|crash-core BUILD_DIR [PROGRAM [VAR=VALUE...]]}
build=${2:?build directory}
lib=$build/lib/libptshim.so
command -v gdb >/dev/null || { echo "FAIL gdb is not installed (scripts/setup.sh installs it)"; exit 1; }

# Sections of one gdb run's output, split at the "@@ name" lines the
# commands below echo: section NAME FILE.
section() { awk -v want="@@ $1" '/^@@ /{on = ($0 == want); next} on' "$2"; }
has() { grep -Eq -- "$2" <<<"$1"; }
expect() { # expect NAME TEXT ERE...
  local name=$1 text=$2
  shift 2
  local re
  for re; do
    if ! has "$text" "$re"; then
      bad "$name" "no line matches: $re" "--- output:" "$text"
      return
    fi
  done
  ok "$name"
}

# The extension on a core of $program: gdb_on_core CORE LOG.
gdb_on_core() {
  timeout 60 gdb -batch -nx -iex "add-auto-load-safe-path $build/lib" \
    -ex "set pagination off" -ex "set width 0" \
    -ex "echo @@ info uthreads\n" -ex "info uthreads" \
    -ex "echo @@ uthread 3\n" -ex "uthread 3" -ex "echo @@ bt 3\n" -ex "bt" \
    -ex "echo @@ back\n" -ex "uthread" \
    "$program" "$1" >"$2" 2>&1 </dev/null
}

case $mode in
view)
  exports=$(nm -D --defined-only "$lib")
  if grep -Eq ' [DR] ptshim_debugger_view$' <<<"$exports"; then
    ok "libptshim.so exports ptshim_debugger_view (.dynsym: survives stripping)"
  else
    bad "ptshim_debugger_view is not in libptshim.so's dynamic symbols" "$(nm -D "$lib" | grep -i debugger)"
  fi
  out=$(gdb -batch -nx -iex "set auto-load python-scripts off" \
    -x "$build/share/ptshim/gdb/ptshim-gdb.py" -ex "maint ptshim-check-view" "$lib" 2>&1)
  expect "the library's view has every key the extension reads" "$out" \
    '^ptshim debugger view: version [0-9]+, [0-9]+ keys, all [0-9]+ the extension reads present$'
  scripts=$(readelf -p .debug_gdb_scripts "$lib" 2>/dev/null)
  if grep -q '#ptshim_gdb_autoload' <<<"$scripts"; then
    ok "libptshim.so carries its .debug_gdb_scripts loader"
  else
    bad "libptshim.so has no .debug_gdb_scripts entry"
  fi
  ;;
live | native)
  program=${3:?program}
  shift 3
  # Natively the library that would auto-load it is absent: sourced instead.
  preload=(-x "$build/share/ptshim/gdb/ptshim-gdb.py")
  if [ "$mode" = live ]; then
    preload=(-ex "set environment LD_PRELOAD $lib")  # the extension auto-loads
    for setting; do preload+=(-ex "set environment $setting"); done
  fi
  log=$tmp/gdb.out
  timeout 60 gdb -batch -nx -iex "add-auto-load-safe-path $build/lib" \
    -ex "set startup-with-shell off" -ex "set pagination off" -ex "set width 0" \
    "${preload[@]}" -ex "break all_blocked" -ex "run" \
    -ex "echo @@ info uthreads\n" -ex "info uthreads" \
    -ex "echo @@ info threads\n" -ex "info threads" \
    -ex "echo @@ uthread 3\n" -ex "uthread 3" -ex "echo @@ bt 3\n" -ex "bt" \
    -ex "echo @@ uthread 5\n" -ex "uthread 5" -ex "echo @@ locals 5\n" -ex "info locals" \
    -ex "echo @@ apply all\n" -ex "uthread apply all bt" \
    -ex "echo @@ group\n" -ex "info uthreads /g" \
    -ex "echo @@ back\n" -ex "uthread" \
    -ex "echo @@ where\n" \
    -ex "python from ptshim_gdb import describe; print(describe.where(int(gdb.parse_and_eval('(unsigned long)&waits_on_mutex'))))" \
    -ex "echo @@ uthread 6\n" -ex "uthread 6" \
    -ex "echo @@ continue\n" -ex "continue" \
    "$program" >"$log" 2>&1 </dev/null
  uthreads=$(section "info uthreads" "$log")
  threads=$(section "info threads" "$log")
  kernel_threads=$(grep -Ec '^\*? +[0-9]+ +Thread ' <<<"$threads")
  if [ "$mode" = native ]; then
    # The twin: what `live` checks must not hold on glibc's own threads.
    if has "$uthreads" '^\* 1 +"main" +running' || [ "$kernel_threads" -le 1 ]; then
      bad "natively, info uthreads lists threads or gdb sees one thread: the test proves nothing" \
        "$uthreads" "$threads"
    else
      ok "natively: no user threads ($(head -1 <<<"$uthreads")), $kernel_threads kernel threads"
    fi
    exit $((failed > 0))
  fi
  expect "info uthreads: one line per user thread, names, states, holders, top frames" "$uthreads" \
    '^\* 1 +"main" +running  in all_blocked \(blocked\.c:[0-9]+\)$' \
    '^  2 +"holder" +waiting on condvar hold_cond \(0x[0-9a-f]+\)  in wait_released ' \
    '^ +holds mutex m \(0x[0-9a-f]+\)$' \
    '^  3 +"locker" +waiting on mutex m \(0x[0-9a-f]+\) held by thread 2 "holder"  in waits_on_mutex \(blocked\.c:[0-9]+\)$' \
    '^  4 +"cond_main" +waiting on condvar go \(0x[0-9a-f]+\)  in wait_released ' \
    '^  5 +"joiner" +joining thread 4 "cond_main"  in waits_on_join \(blocked\.c:[0-9]+\)$' \
    '^  6 +"sleeper" +sleeping, 9[0-9]{4} ms left  in sleeps_long \(blocked\.c:[0-9]+\)$' \
    '^  7 +"sleeper" +sleeping, 9[0-9]{4} ms left  in sleeps_long \(blocked\.c:[0-9]+\)$'
  if [ "$kernel_threads" -eq 1 ]; then
    ok "gdb sees one kernel thread"
  else
    bad "gdb sees $kernel_threads kernel threads, not 1" "$threads"
  fi
  expect "uthread 3 selects locker's first program frame" "$(section "uthread 3" "$log")" \
    '^\[Switching to user thread 3 "locker"\]$' '^#[0-9]+ +0x[0-9a-f]+ in waits_on_mutex \(\) at '
  bt3=$(section "bt 3" "$log")
  expect "uthread 3 + bt: locker's stack" "$bt3" \
    ' in pthread_mutex_lock ' ' in waits_on_mutex \(\) at ' ' in locker_main '
  if has "$bt3" 'all_blocked'; then bad "uthread 3 + bt still shows main's frames" "$bt3"; fi
  expect "uthread 5 + info locals: joiner's frame" \
    "$(section "uthread 5" "$log"; section "locals 5" "$log")" \
    'waits_on_join \(\) at ' '^result = '
  apply=$(section "apply all" "$log")
  declare -A fn=([1]=all_blocked [2]=holder_main [3]=waits_on_mutex [4]=waits_on_cond
    [5]=waits_on_join [6]=sleeps_long [7]=sleeps_long)
  apply_ok=1
  for n in 1 2 3 4 5 6 7; do
    part=$(awk -v n="$n" '/^User thread /{on = ($3 == n)} on' <<<"$apply")
    if ! has "$part" "^User thread $n \"" || ! has "$part" " ${fn[$n]} \("; then
      bad "uthread apply all bt: thread $n's section lacks ${fn[$n]}" "$apply"
      apply_ok=0
      break
    fi
  done
  [ "$apply_ok" = 1 ] && ok "uthread apply all bt: each thread's own stack under its header"
  expect "info uthreads /g: one line per distinct stack" "$(section group "$log")" \
    '^ +1 thread \(\*1\): running  in all_blocked ' '^ +1 thread \(3\): waiting on mutex m ' \
    '^ +2 threads \(6, 7\): sleeping, 9[0-9]{4} ms left  in sleeps_long '
  expect "uthread alone: back to the running thread" "$(section back "$log")" \
    '^\[Back to the running user thread 1 "main"\]$' '^#0 +all_blocked \(\) at '
  if [ "$mode" = live ]; then
    # A symbol-less address is named as reports name it: the object and the
    # offset from its load bias (the program's offset of the function, here).
    offset=$(nm "$program" | awk '$3 == "waits_on_mutex" { sub(/^0+/, "", $1); print $1 }')
    expect "an address is object+offset from the load bias, as in reports" "$(section where "$log")" \
      "^$(basename "$program")\+0x$offset\$"
  fi
  expect "continued with thread 6's registers installed, the program ends right" \
    "$(section continue "$log")" '^done$' 'exited normally'
  ;;
crash-core)
  program=${3:?program}
  # shellcheck source=kernel-core.sh
  . "$here/kernel-core.sh"
  mkdir -p "$tmp/crash"
  if ! core_file=$(kernel_core "$tmp/crash" env LD_PRELOAD="$lib" "$program" crash 2>"$tmp/why"); then
    echo "crash-core: skipped: $(cat "$tmp/why")"
    exit 77 # CTest's SKIP_RETURN_CODE: reported as skipped, not passed
  else
    log=$tmp/crash-core.out
    gdb_on_core "$core_file" "$log"
    expect "crash core: info uthreads, sleeps' time left at the crash" "$(section "info uthreads" "$log")" \
      '^\* 1 +"main" +running  in main ' \
      '^  3 +"locker" +waiting on mutex m \(0x[0-9a-f]+\) held by thread 2 "holder"  in waits_on_mutex ' \
      '^  6 +"sleeper" +sleeping, 9[0-9]{4} ms left at the crash  in sleeps_long '
    expect "crash core: uthread 3" "$(section "uthread 3" "$log")" \
      '^\[Switching to user thread 3 "locker"\]$' 'waits_on_mutex \(\) at '
  fi
  ;;
live-cxx)
  program=${3:?program}
  log=$tmp/gdb-cxx.out
  timeout 60 gdb -batch -nx -iex "add-auto-load-safe-path $build/lib" \
    -ex "set startup-with-shell off" -ex "set pagination off" -ex "set width 0" \
    -ex "set environment LD_PRELOAD $lib" -ex "break all_blocked" -ex "run" \
    -ex "echo @@ info uthreads\n" -ex "info uthreads" \
    -ex "echo @@ info threads\n" -ex "info threads" \
    -ex "echo @@ uthread 4\n" -ex "uthread 4" \
    -ex "echo @@ bad\n" -ex "uthread abc" -ex "uthread 999" -ex "uthread apply 2" \
    -ex "info uthreads /x" \
    -ex "echo @@ continue\n" -ex "continue" \
    "$program" >"$log" 2>&1 </dev/null
  expect "bad arguments: one line naming the bad value" "$(section bad "$log")" \
    "^ptshim: not a user thread number: 'abc' " '^ptshim: no user thread 999$' \
    '^ptshim: no command to run in the threads ' "^ptshim: unknown flag '/x' "
  expect "C++: threads named after their callables, top frames the program's" \
    "$(section "info uthreads" "$log")" \
    '^  2 +"main::\{lambda\(\)#1\}" +waiting on condvar cv \(0x[0-9a-f]+\)  in wait_for_go \(blocked_cxx.cc:17\)' \
    '^  3 +"t1\(\)" +waiting on condvar cv .* in wait_for_go ' \
    '^  4 +"app::Worker::run\(\)" +waiting on condvar cv .* in wait_for_go ' \
    '^  5 +"answer\(\)" +waiting on condvar cv .* in wait_for_go '
  expect "C++: gdb sees one thread" "$(section "info threads" "$log")" '^\* 1 +Thread '
  if [ "$(section "info threads" "$log" | grep -Ec '^[* ] +[0-9]+ +Thread ')" != 1 ]; then
    bad "C++: more than one kernel thread" "$(section "info threads" "$log")"
  fi
  expect "C++: uthread 4 selects the program's frame" "$(section "uthread 4" "$log")" \
    '^\[Switching to user thread 4 "app::Worker::run\(\)"\]$' 'wait_for_go \(\) at '
  expect "C++: the program ends right" "$(section continue "$log")" '^done$' 'exited normally'
  ;;
core)
  program=${3:?program}
  core_file=$tmp/blocked.core
  timeout 60 gdb -batch -nx -iex "set auto-load python-scripts off" \
    -ex "set startup-with-shell off" -ex "set environment LD_PRELOAD $lib" \
    -ex "break all_blocked" -ex "run" -ex "gcore $core_file" -ex "kill" \
    "$program" >"$tmp/gcore.out" 2>&1 </dev/null
  [ -s "$core_file" ] || { bad "gcore wrote no core" "$(cat "$tmp/gcore.out")"; exit 1; }
  log=$tmp/core.out
  gdb_on_core "$core_file" "$log"
  expect "core: info uthreads names, states and top frames" "$(section "info uthreads" "$log")" \
    '^\* 1 +"main" +running  in all_blocked ' \
    '^  3 +"locker" +waiting on mutex m \(0x[0-9a-f]+\) held by thread 2 "holder"  in waits_on_mutex ' \
    '^  6 +"sleeper" +sleeping, deadline at [0-9.]+ s CLOCK_MONOTONIC  in sleeps_long '
  expect "core: uthread 3 + bt shows locker's stack" "$(section "bt 3" "$log")" \
    ' in waits_on_mutex \(\) at ' ' in locker_main '
  expect "core: uthread alone: back to the core's own thread" "$(section back "$log")" \
    '^\[Back to the running user thread 1 "main"\]$' '^#0 +all_blocked \(\) at '
  ;;
*)
  echo "check-gdb.sh: unknown mode $mode" >&2
  exit 64
  ;;
esac
echo "check-gdb $mode: $passed passed, $failed failed"
exit $((failed > 0))
