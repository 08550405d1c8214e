#!/usr/bin/env bash
# usage: same_output_twice.sh LIB PROGRAM [ARG]...
# Runs PROGRAM twice preloaded with LIB under PTSHIM_VIRTUAL_TIME=1; both runs
# must succeed and print exactly the same.
set -u
lib=$1
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for run in 1 2; do
  if ! LD_PRELOAD=$lib PTSHIM_VIRTUAL_TIME=1 timeout 15 "$@" >"$out/$run" 2>"$out/$run.err"; then
    echo "same_output_twice: run $run failed:" >&2
    cat "$out/$run" "$out/$run.err" >&2
    exit 1
  fi
done
if ! diff -u "$out/1" "$out/2"; then
  echo "same_output_twice: the two runs printed differently" >&2
  exit 1
fi
echo "same_output_twice: both runs printed the same $(wc -l <"$out/1") lines"
