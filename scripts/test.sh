#!/usr/bin/env bash
# Build ptshim if needed, then run the test suite. Extra arguments go to ctest:
#   bash scripts/test.sh                          # everything
#   bash scripts/test.sh -L bench                 # one label
#   bash scripts/test.sh -R demo --repeat until-fail:20
# Exit status: ctest's.
set -euo pipefail
root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
build_dir=${PTSHIM_BUILD_DIR:-$root/build}

bash "$root/scripts/setup.sh"
exec ctest --test-dir "$build_dir" --output-on-failure -j2 "$@"
