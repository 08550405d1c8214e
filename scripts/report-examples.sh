#!/usr/bin/env bash
# Builds the programs in scripts/report-examples/ (ordinary C and C++, -O1 -g,
# sources shown as /src/...) and runs each under the launcher, printing every
# report kind as README.md's "Reports" section shows it: the README's examples
# are this script's output, pasted.
#
#   bash scripts/report-examples.sh BUILD_DIR [NAME...]
set -uo pipefail
build_dir=$(readlink -f -- "${1:?usage: report-examples.sh BUILD_DIR [NAME...]}")
shift
launcher=$build_dir/bin/ptshim
src=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/report-examples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # name -> $work/name
  local name=$1 file
  file=$(find "$src" -maxdepth 1 -name "$name.*" -print -quit)
  cp "$file" "$work/"
  local flags=(-O1 -g -fdebug-prefix-map="$work"=/src -o "$work/$name" "$work/${file##*/}" -pthread)
  case $file in
    *.cc) g++ -std=c++20 "${flags[@]}" ;;
    *) gcc "${flags[@]}" ;;
  esac
}

show() { # title, then the command's stderr (and stdout) as a block, and how it ended
  printf '### %s\n\n```\n' "$1"
  shift
  local out status
  out=$(cd "$work" && exec "$@" 2>&1)
  status=$?
  printf '%s\n```\n' "$out"
  if ((status > 128)); then
    printf '(killed by SIG%s)\n\n' "$(kill -l $((status - 128)))"
  else
    printf '(exit status %d)\n\n' "$status"
  fi
}

run_example() {
  local name=$1
  build "$name" || return 1
  case $name in
    overflow) show "Stack overflow" "$launcher" ./overflow ;;
    crash) show "Crash" "$launcher" ./crash ;;
    deadlock) show "Deadlock while other threads run" "$launcher" ./deadlock ;;
    lock_order) show "Lock-order cycle (--lock-order)" "$launcher" --lock-order ./lock_order ;;
    misuse) show "API misuse" "$launcher" ./misuse ;;
    exception) show "Uncaught C++ exception" "$launcher" ./exception ;;
    pipeline) show "Statistics (--stats)" "$launcher" --stats ./pipeline ;;
    hang)
      # A background job of a shell without job control starts with SIGQUIT
      # ignored, which ptshim (as the program would) keeps: restore it.
      show "Thread dump (kill -QUIT)" bash -c '
        env --default-signal=QUIT "$1" ./hang > "$2/out" & pid=$!
        until grep -q started "$2/out" 2>/dev/null; do sleep 0.01; done
        sleep 0.05; kill -QUIT $pid; sleep 0.1; kill -KILL $pid; wait $pid 2>/dev/null' _ "$launcher" "$work"
      ;;
  esac
}

names=("$@")
((${#names[@]} > 0)) || names=(overflow crash deadlock lock_order misuse exception hang pipeline)
for n in "${names[@]}"; do run_example "$n"; done
