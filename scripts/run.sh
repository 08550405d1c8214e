#!/usr/bin/env bash
# Build ptshim if needed, then run a program under it:
#   bash scripts/run.sh [--timeslice=DUR] [--stack-size=SIZE] [--] PROGRAM [ARG]...
#   bash scripts/run.sh            # the bundled demo
# Options before PROGRAM go to the launcher (build/bin/ptshim --help).
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
build_dir=${PTSHIM_BUILD_DIR:-$root/build}

bash "$root/scripts/setup.sh"

# Launcher options first, then "--" so that the program's own name or
# arguments are never taken for launcher options.
opts=()
while (($# > 0)); do
  case $1 in
    --) shift; break ;;
    --timeslice | --stack-size)
      opts+=("${@:1:2}") # the option and its value, if there is one
      shift $(($# >= 2 ? 2 : 1)) ;;
    -?*) opts+=("$1"); shift ;;
    *) break ;;
  esac
done
if (($# == 0)); then
  exec "$build_dir/bin/ptshim" "${opts[@]}"
fi
exec "$build_dir/bin/ptshim" "${opts[@]}" -- "$@"
