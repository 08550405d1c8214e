# Sourced by the gdb checks (scripts/gdb/check-core-threads.sh, check-gdb.sh):
# a core that the kernel writes, where core_pattern lets a test find it.
# shellcheck shell=bash

# The kernel's core of COMMAND run in DIR, or nothing (with the reason on stderr).
kernel_core() { # dir command...
  local dir=$1 pattern glob files=() f
  shift
  pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null) || return 1
  if [[ -z $pattern || $pattern == '|'* ]]; then
    echo "core_pattern is a pipe ($pattern)" >&2
    return 1
  fi
  touch "$dir/.stamp"
  (cd "$dir" && ulimit -c unlimited 2>/dev/null && exec "$@") >/dev/null 2>&1
  # The pattern's %-specifiers (pid, name, time...) match anything; a relative
  # pattern is relative to the crashed process's directory; core_uses_pid
  # adds .PID.
  glob=$(sed 's/%%/\x01/g; s/%./*/g; s/\x01/%/g' <<<"$pattern")
  [[ $glob == /* ]] || glob=$dir/$glob
  shopt -s nullglob
  # shellcheck disable=SC2206 # the glob is meant to expand
  files=($glob $glob.*)
  shopt -u nullglob
  for f in "${files[@]}"; do
    if [[ -f $f && -O $f && $f -nt $dir/.stamp ]]; then
      echo "$f"
      return 0
    fi
  done
  echo "no core found for pattern $pattern" >&2
  return 1
}

