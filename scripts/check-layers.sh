#!/usr/bin/env bash
# The include rules between core/'s subsystems, which share one include root
# (the build enforces the rest: arch/ sees nothing above it, core/ never sees
# shim/; docs/design.md §2):
#   - core/base/base.h includes no other core header;
#   - every other subsystem header includes at most core/sched/sched.h and
#     core/base/base.h of the core;
#   - only core/init.cc includes core/runtime.h (shim/ reaches the core
#     through it).
set -euo pipefail
root=${1:-$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)}
cd "$root"
bad=0
complain() { echo "check-layers: $*" >&2; bad=1; }
includes() { sed -n 's/^#include "\(core\/[^"]*\)".*/\1/p' "$1"; }

for header in core/*/*.h; do
  sub=$(basename "$(dirname "$header")")
  [[ $sub == testing ]] && continue
  while read -r inc; do
    [[ -z $inc ]] && continue
    case $sub:$inc in
      base:*) complain "$header includes $inc: core/base depends on no other subsystem" ;;
      *:core/sched/sched.h | *:core/base/base.h) ;;
      *) complain "$header includes $inc: a subsystem header may include only sched.h and base.h" ;;
    esac
  done < <(includes "$header")
done
while read -r file; do
  [[ $file == core/init.cc ]] && continue
  complain "$file includes core/runtime.h, which is for shim/ and core/init.cc only"
done < <(grep -rl --include='*.cc' --include='*.h' '^#include "core/runtime.h"' core || true)
exit $bad
