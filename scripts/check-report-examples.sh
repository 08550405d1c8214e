#!/usr/bin/env bash
# The README's report examples stay what scripts/report-examples.sh prints:
# each example program still produces its kind of report, with demangled
# names, thread names after callables, lock names and source lines.
#
#   bash scripts/check-report-examples.sh BUILD_DIR
set -uo pipefail
build_dir=$(readlink -f -- "${1:?usage: check-report-examples.sh BUILD_DIR}")
here=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
# shellcheck source=scripts/check-lib.sh
source "$here/check-lib.sh"
out=$tmp/examples.md
bash "$here/report-examples.sh" "$build_dir" >"$out" 2>&1
expect_line() { # name ERE
  if grep -Eq -- "$2" "$out"; then ok "$1"; else bad "$1" "no line matches /$2/" "$(cat "$out")"; fi
}
expect_line overflow '^ptshim: stack overflow in thread 2 "main::\{lambda\(\)#1\}"$'
expect_line overflow-frame 'app::Parser::depth\(std::string const&, int\)\+0x[0-9a-f]+ \(overflow\) /src/overflow\.cc:[0-9]+ \(repeated [0-9]+ times\)$'
expect_line overflow-creation '^  created by thread 1 "main" at 0x[0-9a-f]+ main\+0x[0-9a-f]+ \(overflow\) /src/overflow\.cc:19$'
expect_line crash '^ptshim: SIGSEGV \(address not mapped\) at 0x0 in thread 2 "load"$'
expect_line crash-inlined '^      inlined here: name_length /src/crash\.c:11$'
expect_line exception "^ptshim: uncaught exception in thread 2 \"main::\{lambda\(\)#1\}\": std::invalid_argument: what\(\): not a port: 'http'$"
expect_line exception-site '^  #0 0x[0-9a-f]+ app::parse_port\(std::string const&\)\+0x[0-9a-f]+ \(exception\) /src/exception\.cc:9$'
expect_line deadlock '^ptshim: deadlock: thread [34] "(transfer|audit)\(\)" and thread [34] "(transfer|audit)\(\)" wait for each other \(2 other live thread\(s\)\):$'
expect_line deadlock-holds '^    holds mutex (accounts|journal) \(deadlock\+0x[0-9a-f]+\), locked at 0x[0-9a-f]+ (transfer|audit)\(\)\+0x[0-9a-f]+ \(deadlock\) /src/deadlock\.cc:1[28]$'
expect_line deadlock-heartbeat '^heartbeat 1$'
expect_line lock-order '^ptshim: lock-order cycle: mutex (cache|index_lock) \(lock_order\+0x[0-9a-f]+\) -> '
expect_line misuse '^ptshim: misuse: pthread_mutex_unlock of mutex queue_lock \(misuse\+0x[0-9a-f]+\) not held by thread 2 "consumer" \(held by thread 1 "main"\)$'
expect_line misuse-destroy '^ptshim: misuse: pthread_mutex_destroy of mutex queue_lock '
expect_line dump '^  thread 2 "waiter": waiting on condvar ready \(hang\+0x[0-9a-f]+\)$'
expect_line stats '^  threads: 4 created, 5 alive at most, 4 exited$'
echo "$passed passed, $failed failed"
((failed == 0))
