#!/usr/bin/env bash
# Checks of the launcher (run by CTest as launcher.check):
# option handling, error messages and exit codes, the environment it sets,
# and that both the build-tree and an installed launcher find the library
# and the demo.
#
#   bash scripts/check-launcher.sh BUILD_DIR
# shellcheck disable=SC2016 # single-quoted $ is meant for the child shell
set -uo pipefail
build_dir=$(readlink -f -- "${1:?usage: check-launcher.sh BUILD_DIR}")
launcher=$build_dir/bin/ptshim
# shellcheck source=scripts/check-lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/check-lib.sh"

# expect NAME STATUS STDOUT-REGEX STDERR-REGEX -- command...
# Empty regexes mean "must be empty".
expect() {
  local name=$1 want_status=$2 want_out=$3 want_err=$4
  shift 5
  local out err status
  out=$("$@" 2>"$tmp/err" </dev/null)
  status=$?
  err=$(<"$tmp/err")
  if [[ $status != "$want_status" ]]; then
    bad "$name" "exit status $status, expected $want_status" "stdout: $out" "stderr: $err"
  elif [[ -z $want_out && -n $out ]] || [[ -n $want_out && ! $out =~ $want_out ]]; then
    bad "$name" "stdout: $out" "expected: ${want_out:-nothing}"
  elif [[ -z $want_err && -n $err ]] || [[ -n $want_err && ! $err =~ $want_err ]]; then
    bad "$name" "stderr: $err" "expected: ${want_err:-nothing}"
  else
    ok "$name"
  fi
}

lib=$build_dir/lib/libptshim.so

expect help 0 '^Usage: ptshim ' '' -- "$launcher" --help
expect help-short 0 '^Usage: ptshim ' '' -- "$launcher" -h
expect version 0 '^ptshim [0-9]' '' -- "$launcher" --version
expect unknown-option 2 '' "^ptshim: unknown option '--foo' \(see ptshim --help\)$" -- \
  "$launcher" --foo true
expect unknown-short-option 2 '' "^ptshim: unknown option '-x' \(see ptshim --help\)$" -- \
  "$launcher" -x true
expect missing-value 2 '' "^ptshim: option '--timeslice' needs a value \(see ptshim --help\)$" -- \
  "$launcher" --timeslice
expect bad-timeslice 2 '' "^ptshim: invalid --timeslice 'banana': .*\(see ptshim --help\)$" -- \
  "$launcher" --timeslice=banana true
expect bad-timeslice-unit 2 '' "^ptshim: invalid --timeslice '10': " -- \
  "$launcher" --timeslice 10 true
expect bad-stack-size 2 '' "^ptshim: invalid --stack-size '12q': " -- \
  "$launcher" --stack-size=12q true
expect options-set-env 0 '^5ms 256K$' '' -- \
  "$launcher" --timeslice=5ms --stack-size 256K -- sh -c 'echo "$PTSHIM_TIMESLICE $PTSHIM_STACK_SIZE"'
expect timeslice-0 0 '^0 8m$' '' -- \
  "$launcher" --timeslice 0 --stack-size=8m sh -c 'echo "$PTSHIM_TIMESLICE $PTSHIM_STACK_SIZE"'
expect case-insensitive 0 '^1MS$' '' -- "$launcher" --timeslice=1MS printenv PTSHIM_TIMESLICE
expect no-options-keep-env 0 '^7ms$' '' -- \
  env PTSHIM_TIMESLICE=7ms "$launcher" printenv PTSHIM_TIMESLICE
# The schedule's options (issue 14): each sets its variable; bad values are
# one line and exit status 2.
# (sh ends by _exit: the seeded run's schedule line is still its last words.)
expect sched-options-set-env 0 '^pct:2 17 900 3,17 4 1 1 1$' '^ptshim: schedule seed=17 ' -- \
  "$launcher" --sched=pct:2 --seed 17 --pct-steps=900 --preempt-skip=3,17 --preempt-show 4 \
  --virtual-time --spurious-wakeups --schedule-digest=1 -- sh -c \
  'echo "$PTSHIM_SCHED $PTSHIM_SEED $PTSHIM_PCT_STEPS $PTSHIM_PREEMPT_SKIP $PTSHIM_PREEMPT_SHOW $PTSHIM_VIRTUAL_TIME $PTSHIM_SPURIOUS_WAKEUPS $PTSHIM_SCHEDULE_DIGEST"'
# The report options (issue 15).
expect report-options-set-env 0 '^1 1 abort none$' '^ptshim: stats \(pid [0-9]+, ' -- \
  "$launcher" --lock-order --stats=1 --misuse abort --symbolizer=none -- sh -c \
  'echo "$PTSHIM_LOCK_ORDER $PTSHIM_STATS $PTSHIM_MISUSE $PTSHIM_SYMBOLIZER"'
expect trace-option-sets-env 0 '^/tmp/t.json$' '' -- "$launcher" --trace /tmp/t.json printenv PTSHIM_TRACE
expect bad-trace-empty 2 '' "^ptshim: invalid --trace '': expected a file name " -- "$launcher" --trace= true
expect symbolizer-path 0 '^/bin/true$' '' -- "$launcher" --symbolizer /bin/true printenv PTSHIM_SYMBOLIZER
expect bad-misuse 2 '' "^ptshim: invalid --misuse 'loud': expected warn, abort or off \(see ptshim --help\)$" -- \
  "$launcher" --misuse=loud true
expect bad-symbolizer-relative 2 '' "^ptshim: invalid --symbolizer 'addr2line': expected an absolute path, or none " -- \
  "$launcher" --symbolizer=addr2line true
expect bad-symbolizer-missing 2 '' "^ptshim: invalid --symbolizer '/no/such/symbolizer': expected an executable file, or none " -- \
  "$launcher" --symbolizer=/no/such/symbolizer true
expect bad-stats 2 '' "^ptshim: invalid --stats '2': expected 0 or 1 " -- "$launcher" --stats=2 true
expect bad-symbolizer-env 2 '' '^ptshim: PTSHIM_SYMBOLIZER=/etc/passwd: not an executable file' -- \
  env PTSHIM_SYMBOLIZER=/etc/passwd "$launcher" true
# Every setting (issue 16): each option sets its variable, and --help names
# every variable the library reads (core/base/options.cc), so none is left
# to the environment alone.
expect settings-set-env 0 '^0 /tmp/r usr1 warn shared ucontext all /a:/b$' '' -- \
  "$launcher" --no-backtrace --report=/tmp/r --dump-signal usr1 --deadlock=warn --tls=shared \
  --switch ucontext --guarded-stacks=all --debug-file-directory=/a:/b -- sh -c \
  'echo "$PTSHIM_BACKTRACE $PTSHIM_REPORT $PTSHIM_DUMP_SIGNAL $PTSHIM_DEADLOCK $PTSHIM_TLS $PTSHIM_SWITCH $PTSHIM_GUARDED_STACKS $PTSHIM_DEBUG_FILE_DIRECTORY"'
expect bad-deadlock 2 '' "^ptshim: invalid --deadlock 'x': expected auto, abort or warn " -- "$launcher" --deadlock=x true
expect bad-dump-signal 2 '' "^ptshim: invalid --dump-signal 'KILL': " -- "$launcher" --dump-signal=KILL true
expect bad-guarded-stacks 2 '' "^ptshim: invalid --guarded-stacks '-3': " -- "$launcher" --guarded-stacks=-3 true
expect bad-debug-dirs 2 '' "^ptshim: invalid --debug-file-directory 'rel': " -- "$launcher" --debug-file-directory=rel true
expect unknown-long-with-value 2 '' "^ptshim: unknown option '--foo=1' " -- "$launcher" --foo=1 true
help_text=$("$launcher" --help)
source_dir=$(dirname -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")")
missing=()
while read -r variable; do
  [[ $help_text == *"($variable"* || $help_text == *" $variable"* ]] || missing+=("$variable")
done < <(grep -o '{"PTSHIM_[A-Z_]*"' "$source_dir/core/base/options.cc" | tr -d '{"')
if ((${#missing[@]} == 0)); then
  ok help-names-every-variable
else
  bad help-names-every-variable "--help does not name: ${missing[*]}"
fi
expect virtual-time-0 0 '^0$' '' -- "$launcher" --virtual-time=0 printenv PTSHIM_VIRTUAL_TIME
expect seed-max 0 '^18446744073709551615$' '' -- \
  "$launcher" --seed=18446744073709551615 printenv PTSHIM_SEED
expect bad-sched 2 '' "^ptshim: invalid --sched 'foo': expected fifo, random, pct or pct:DEPTH with DEPTH from 1 to 32 \(see ptshim --help\)$" -- \
  "$launcher" --sched=foo true
expect bad-sched-pct-0 2 '' "^ptshim: invalid --sched 'pct:0': " -- "$launcher" --sched=pct:0 true
expect bad-sched-pct-33 2 '' "^ptshim: invalid --sched 'pct:33': " -- "$launcher" --sched pct:33 true
expect bad-seed-negative 2 '' "^ptshim: invalid --seed '-1': expected a decimal number from 0 to 18446744073709551615 \(see ptshim --help\)$" -- \
  "$launcher" --seed=-1 true
expect bad-seed-too-big 2 '' "^ptshim: invalid --seed '18446744073709551616': " -- \
  "$launcher" --seed=18446744073709551616 true
expect bad-pct-steps 2 '' "^ptshim: invalid --pct-steps '0': " -- "$launcher" --pct-steps=0 true
expect bad-preempt-skip 2 '' "^ptshim: invalid --preempt-skip '3,,4': " -- \
  "$launcher" --preempt-skip=3,,4 true
expect bad-preempt-show-zero 2 '' "^ptshim: invalid --preempt-show '0': " -- \
  "$launcher" --preempt-show=0 true
expect bad-virtual-time 2 '' "^ptshim: invalid --virtual-time 'yes': expected 0 or 1 " -- \
  "$launcher" --virtual-time=yes true
expect missing-seed-value 2 '' "^ptshim: option '--seed' needs a value \(see ptshim --help\)$" -- \
  "$launcher" --seed
expect sched-before-explore 2 '' '^ptshim: the schedule options go after explore ' -- \
  "$launcher" --sched=pct explore -- true
# A seeded run starts without address-space randomisation (personality
# ADDR_NO_RANDOMIZE, 0x0040000) and without the shell's `_` (explore's runs have none).
expect seeded-no-aslr 0 '^00040000$' '' -- "$launcher" --seed=1 cat /proc/self/personality
expect seeded-by-env-no-aslr 0 '^00040000$' '' -- \
  env PTSHIM_SCHED=random "$launcher" cat /proc/self/personality
expect fifo-aslr 0 '^00000000$' '' -- "$launcher" --seed=1 --sched=fifo cat /proc/self/personality
expect seeded-no-underscore 1 '' '' -- env _=/some/shell/path "$launcher" --seed=1 printenv _
expect explore-help 0 '^Usage: ptshim explore ' '' -- "$launcher" explore --help
expect preload 0 "^$lib\$" '' -- env -u LD_PRELOAD "$launcher" printenv LD_PRELOAD
# A harmless library that exists, so that ld.so stays quiet.
other=$(ldconfig -p 2>/dev/null | awk '/^[[:space:]]*libm\.so\.6 / { print $NF; exit }')
expect preload-prepended 0 "^$lib:${other:-$lib}\$" '' -- \
  env LD_PRELOAD="${other:-$lib}" "$launcher" printenv LD_PRELOAD
expect program-args-untouched 0 '^--foo --timeslice=x$' '' -- \
  "$launcher" echo --foo --timeslice=x
expect double-dash-program 0 '^--help$' '' -- "$launcher" -- printf '%s\n' --help
expect command-not-found 127 '' '^ptshim: no-such-program-xyz: command not found$' -- \
  "$launcher" no-such-program-xyz
expect no-such-file 127 '' '^ptshim: ./no/such/file: no such file$' -- "$launcher" ./no/such/file
expect not-executable 126 '' 'not an executable file$' -- "$launcher" /

# --gdb: gdb (a stand-in that prints its arguments) gets the preload and
# the settings for the program only, and the safe-path line for the library.
mkdir -p "$tmp/fakegdb"
printf '#!/bin/sh\nprintf "%%s\\n" "LD_PRELOAD=$LD_PRELOAD" "$@"\n' >"$tmp/fakegdb/gdb"
chmod +x "$tmp/fakegdb/gdb"
gdb_out=$(env -u LD_PRELOAD PATH="$tmp/fakegdb:$PATH" "$launcher" --stats --gdb -- true x 2>&1)
if [[ $gdb_out == *$'LD_PRELOAD=\n'* && $gdb_out == *"add-auto-load-safe-path $lib"* &&
  $gdb_out == *"set environment LD_PRELOAD=$lib"* && $gdb_out == *"set environment PTSHIM_STATS=1"* &&
  $gdb_out == *$'--args\ntrue\nx'* ]]; then
  ok gdb-mode
else
  bad gdb-mode "$gdb_out"
fi

# Missing library: a copy of the launcher in a tree without it.
mkdir -p "$tmp/fake/bin" "$tmp/fake/lib"
cp "$launcher" "$tmp/fake/bin/ptshim"
expect missing-library 2 '' "^ptshim: library not found: $tmp/fake/lib/libptshim.so " -- \
  "$tmp/fake/bin/ptshim" true

# Through a symlink: resolves its own location.
ln -s "$launcher" "$tmp/ptshim-link"
expect symlinked 0 "^$lib\$" '' -- env -u LD_PRELOAD "$tmp/ptshim-link" printenv LD_PRELOAD

# Installed copy: finds the installed library and demo.
prefix=$tmp/prefix
if cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  ok install
  inst_lib=$(find "$prefix" -name libptshim.so -print -quit)
  inst_demo=$(find "$prefix" -name ptshim-demo -print -quit)
  if [[ -n $inst_lib && -n $inst_demo ]]; then
    expect installed-preload 0 "^$inst_lib\$" '' -- \
      env -u LD_PRELOAD "$prefix/bin/ptshim" printenv LD_PRELOAD
    # The demo itself is checked by demo.under-shim; here only that it is
    # found: replace the installed copy by a script that shows LD_PRELOAD.
    printf '#!/bin/sh\nprintf "%%s\\n" "$LD_PRELOAD"\n' >"$inst_demo"
    expect installed-demo-found 0 "^$inst_lib\$" \
      "^ptshim: no program given; running the bundled demo: $inst_demo\$" -- \
      env -u LD_PRELOAD "$prefix/bin/ptshim"
    expect installed-explore 0 '^ptshim explore: 2 runs .*: no failure$' '' -- \
      "$prefix/bin/ptshim" explore --runs=2 -- true
  else
    bad installed-files "library: ${inst_lib:-missing}" "demo: ${inst_demo:-missing}"
  fi
else
  bad install "$(cat "$tmp/install.log")"
fi

echo "$passed passed, $failed failed"
((failed == 0))
