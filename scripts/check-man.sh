#!/usr/bin/env bash
# The man page, docs/ptshim.1, renders without warnings and does not drift
# from the launcher and the library: every option `ptshim --help` lists and
# every PTSHIM_* variable core/base/options.cc reads appears in it.
#
#   bash scripts/check-man.sh BUILD_DIR
set -uo pipefail
build_dir=$(readlink -f -- "${1:?usage: check-man.sh BUILD_DIR}")
source_dir=$(dirname -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")")
# shellcheck source=scripts/check-lib.sh
source "$source_dir/scripts/check-lib.sh"
page=$source_dir/docs/ptshim.1

if MANWIDTH=80 man --warnings -l "$page" >"$tmp/page.txt" 2>"$tmp/warnings" && [[ ! -s $tmp/warnings ]]; then
  ok renders-without-warnings
else
  bad renders-without-warnings "$(cat "$tmp/warnings")"
fi
# Names are looked for in lines too long to be hyphenated.
text=$(MANWIDTH=4000 man -l "$page" 2>/dev/null)
help=$("$build_dir/bin/ptshim" --help)
missing=()
while read -r option; do
  [[ $text == *"$option"* ]] || missing+=("$option")
done < <(grep -oE '^  (-h, )?--[a-z-]+' <<<"$help" | sed 's/^ *-h, //; s/^ *//')
if ((${#missing[@]} == 0)); then ok every-option; else bad every-option "not in the man page: ${missing[*]}"; fi
missing=()
while read -r variable; do
  [[ $text == *"$variable"* ]] || missing+=("$variable")
done < <(grep -o '{"PTSHIM_[A-Z_]*"' "$source_dir/core/base/options.cc" | tr -d '{"')
if ((${#missing[@]} == 0)); then ok every-variable; else bad every-variable "not in the man page: ${missing[*]}"; fi
echo "$passed passed, $failed failed"
((failed == 0))
