#!/usr/bin/env bash
# Runs one compatibility-test program, preloading the shim library, and checks
# how it ended. Used by the CTest entries made in compat-tests/CMakeLists.txt.
#
# usage: run-under-shim.sh [options] -- PROGRAM [ARGS...]
#   --lib PATH              library to put in LD_PRELOAD (omit: run natively)
#   --env VAR=VALUE         extra environment for the program (repeatable)
#   --expect-exit N         expected exit status (default 0)
#   --expect-signal SIG     expect death by signal SIG (name like SIGABRT or number)
#   --expect-stderr ERE     some stderr line must match ERE (repeatable)
#   --expect-stderr-count N:ERE   at least N stderr lines must match ERE
#   --expect-stderr-exactly N:ERE exactly N stderr lines must match ERE (a
#                           once-only report stays once)
#   --expect-stdout ERE     some stdout line must match ERE (repeatable)
#   --reject-stderr ERE     no stderr line may match ERE (repeatable)
#   --expect-report ERE     run with PTSHIM_REPORT set to a fresh file; some line
#                           of that file must match ERE (repeatable)
#   --timeout S             kill the program after S seconds (default 60)
# On failure the program's stdout and stderr are printed.
set -u

lib=""
expect_exit=0
expect_signal=""
timeout_s=60
envs=()
stderr_res=()
stderr_counts=()
stderr_exact=()
stdout_res=()
reject_res=()
report_res=()

die_usage() { echo "run-under-shim.sh: $*" >&2; exit 64; }

while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib="${2?}"; shift 2 ;;
    --env) envs+=("${2?}"); shift 2 ;;
    --expect-exit) expect_exit="${2?}"; shift 2 ;;
    --expect-signal) expect_signal="${2?}"; shift 2 ;;
    --expect-stderr) stderr_res+=("${2?}"); shift 2 ;;
    --expect-stderr-count) stderr_counts+=("${2?}"); shift 2 ;;
    --expect-stderr-exactly) stderr_exact+=("${2?}"); shift 2 ;;
    --expect-stdout) stdout_res+=("${2?}"); shift 2 ;;
    --reject-stderr) reject_res+=("${2?}"); shift 2 ;;
    --expect-report) report_res+=("${2?}"); shift 2 ;;
    --timeout) timeout_s="${2?}"; shift 2 ;;
    --) shift; break ;;
    *) die_usage "unknown option '$1'" ;;
  esac
done
[ $# -ge 1 ] || die_usage "no program given"
if [ -n "$lib" ] && [ ! -f "$lib" ]; then
  echo "FAIL: library $lib does not exist (build the ptshim target first)"
  exit 1
fi

# Signal name -> number (kill -l accepts both "ABRT" and "SIGABRT").
if [ -n "$expect_signal" ]; then
  case "$expect_signal" in
    *[!0-9]*) signum=$(kill -l "${expect_signal#SIG}" 2>/dev/null) ||
                die_usage "unknown signal '$expect_signal'" ;;
    *) signum=$expect_signal ;;
  esac
fi

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/ptshim-compat.XXXXXX") || exit 70
trap 'rm -rf "$tmpdir"' EXIT
out="$tmpdir/stdout"
err="$tmpdir/stderr"

preload=()
[ -n "$lib" ] && preload=("LD_PRELOAD=$lib")
report="$tmpdir/report"
[ ${#report_res[@]} -gt 0 ] && envs+=("PTSHIM_REPORT=$report")

# No core files from the tests that expect SIGABRT. timeout(1) reports 124 on
# expiry and 128+N when the program dies by signal N, like the shell does.
ulimit -c 0
start=$(date +%s.%N)
# The outer 2>/dev/null only silences bash's own "Aborted" job report.
{ timeout --kill-after=5 "$timeout_s" env "${preload[@]}" "${envs[@]}" "$@" >"$out" 2>"$err" </dev/null; } 2>/dev/null
status=$?
end=$(date +%s.%N)

problems=()
if [ "$status" -eq 124 ]; then
  problems+=("timed out after ${timeout_s}s")
elif [ -n "$expect_signal" ]; then
  [ "$status" -eq $((128 + signum)) ] ||
    problems+=("exit status $status, want death by signal $expect_signal (status $((128 + signum)))")
else
  [ "$status" -eq "$expect_exit" ] ||
    problems+=("exit status $status, want $expect_exit")
fi
for re in ${stderr_res[@]+"${stderr_res[@]}"}; do
  grep -Eq -- "$re" "$err" || problems+=("no stderr line matches /$re/")
done
for spec in ${stderr_counts[@]+"${stderr_counts[@]}"}; do
  want=${spec%%:*} re=${spec#*:}
  got=$(grep -Ec -- "$re" "$err")
  [ "$got" -ge "$want" ] || problems+=("$got stderr lines match /$re/, want at least $want")
done
for spec in ${stderr_exact[@]+"${stderr_exact[@]}"}; do
  want=${spec%%:*} re=${spec#*:}
  got=$(grep -Ec -- "$re" "$err")
  [ "$got" -eq "$want" ] || problems+=("$got stderr lines match /$re/, want exactly $want")
done
for re in ${stdout_res[@]+"${stdout_res[@]}"}; do
  grep -Eq -- "$re" "$out" || problems+=("no stdout line matches /$re/")
done
for re in ${reject_res[@]+"${reject_res[@]}"}; do
  ! grep -Eq -- "$re" "$err" || problems+=("a stderr line matches /$re/, want none")
done
for re in ${report_res[@]+"${report_res[@]}"}; do
  grep -Eq -- "$re" "$report" 2>/dev/null || problems+=("no line of the PTSHIM_REPORT file matches /$re/")
done

show_output() {
  echo "--- stdout ---"; cat "$out"
  echo "--- stderr ---"; cat "$err"
  echo "--------------"
}

elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
mode="under ${lib:-native threads (no LD_PRELOAD)}"
if [ ${#problems[@]} -ne 0 ]; then
  echo "FAIL $mode in ${elapsed}s: $*"
  [ ${#envs[@]} -gt 0 ] && echo "  environment: ${envs[*]}"
  for p in "${problems[@]}"; do echo "  $p"; done
  show_output
  exit 1
fi
echo "ok $mode in ${elapsed}s (exit status $status): $*"
cat "$out"
if [ -s "$err" ]; then
  echo "--- stderr ---"; cat "$err"
fi
exit 0
