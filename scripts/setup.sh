#!/usr/bin/env bash
# Install the build dependencies if any is missing, then configure (once) and
# build ptshim into build/. Quiet when there is nothing to do; the output of a
# failed step is shown.
#
#   bash scripts/setup.sh        # or: source scripts/setup.sh
#
# Environment:
#   PTSHIM_BUILD_DIR   build directory (default: <repo>/build)
#   PTSHIM_VERBOSE=1   show the output of cmake and of the build

ptshim_setup() (
  set -euo pipefail

  local root build_dir verbose jobs
  root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
  build_dir=${PTSHIM_BUILD_DIR:-$root/build}
  verbose=${PTSHIM_VERBOSE:-0}
  jobs=$(nproc 2>/dev/null || echo 2)

  say() { printf 'setup: %s\n' "$*" >&2; }

  # Run a command; show its output only if it fails (or when verbose).
  run_quiet() { # log-file command...
    local log=$1
    shift
    if [[ $verbose == 1 ]]; then
      "$@" 2>&1 | tee "$log" >&2
      return "${PIPESTATUS[0]}"
    fi
    if ! "$@" >"$log" 2>&1; then
      cat "$log" >&2
      return 1
    fi
  }

  # --- packages ---------------------------------------------------------------
  local packages=(build-essential cmake gdb libiberty-dev libunwind-dev man-db pkg-config python3 strace) missing=() p
  if ! command -v dpkg-query >/dev/null; then
    packages=() # not Debian: the build dependencies are the user's business
  fi
  for p in "${packages[@]}"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]} > 0)); then
    local sudo=()
    if ((EUID != 0)); then
      if command -v sudo >/dev/null; then
        sudo=(sudo -n)
      else
        say "missing packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
        return 1
      fi
    fi
    say "installing ${missing[*]}"
    local apt_log
    apt_log=$(mktemp)
    trap 'rm -f "$apt_log"' EXIT
    export DEBIAN_FRONTEND=noninteractive
    run_quiet "$apt_log" "${sudo[@]}" apt-get update -qq
    run_quiet "$apt_log" "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi

  # --- configure (until it has succeeded once; the build re-runs cmake when
  # CMakeLists.txt change) ------------------------------------------------------
  mkdir -p "$build_dir"
  if [[ -f $build_dir/CMakeCache.txt ]]; then
    local cached_src
    cached_src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build_dir/CMakeCache.txt")
    if [[ -n $cached_src && $(readlink -f -- "$cached_src") != "$root" ]]; then
      say "$build_dir was configured for another source tree ($cached_src); remove it and retry"
      return 1
    fi
  fi
  # No build system file: never configured, or the last configure failed.
  if [[ ! -f $build_dir/Makefile && ! -f $build_dir/build.ninja ]]; then
    say "configuring $build_dir"
    if ! run_quiet "$build_dir/setup-configure.log" \
      cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
      say "configure failed (log: $build_dir/setup-configure.log)"
      return 1
    fi
  fi

  # --- build ------------------------------------------------------------------
  if ! run_quiet "$build_dir/setup-build.log" cmake --build "$build_dir" -j "$jobs"; then
    say "build failed (log: $build_dir/setup-build.log)"
    return 1
  fi
)

# Last command: its status is the script's (or, when sourced, the source's).
ptshim_setup "$@"
