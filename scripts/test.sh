#!/usr/bin/env bash
# Build ptshim if needed, then run the test suite. Extra arguments go to ctest:
#   bash scripts/test.sh                          # everything but the labels slow, package
#   bash scripts/test.sh -L bench                 # one label
#   bash scripts/test.sh -L programs              # all the Debian programs (scripts/programs.sh)
#   bash scripts/test.sh -R demo --repeat until-fail:20
# Exit status: ctest's.
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
build_dir=${PTSHIM_BUILD_DIR:-$root/build}

# The labels slow (the Debian programs with large packages, minutes) and package
# (the .deb, which builds the library a second time) are not part of the
# default run, nor of CI's, which is this one. Any selection of tests by label
# or name is taken as is.
select=(-LE '^(slow|package)$')
for arg; do
  case $arg in
    -L | -LE | -R | -E | -I | --label-regex* | --label-exclude* | --tests-regex* | --exclude-regex* | --tests-information*) select=() ;;
  esac
done

bash "$root/scripts/setup.sh"
exec ctest --test-dir "$build_dir" --output-on-failure -j2 "${select[@]}" "$@"
