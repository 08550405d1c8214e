# Shared by the scripts/check-*.sh test scripts (sourced, not run): a scratch
# directory removed at exit, and the ok/bad lines with their counts.
# shellcheck shell=bash
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$1"; shift; printf '     %s\n' "$@"; }
