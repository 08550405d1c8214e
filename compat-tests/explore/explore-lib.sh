# shellcheck shell=bash
# Shell functions shared by check-explore.sh and scripts/explore-table.sh
# (sourced, not run).

# The replay command in the output of `ptshim explore` (a line
# `replay: COMMAND`, indented or not), the first if there are several.
explore_replay() { # explore-output-file
  sed -n -E 's/^[[:space:]]*replay:[[:space:]]+//p' "$1" | head -n 1
}

# The seed a replay command runs.
replay_seed() { # command
  sed -n -E 's/.*(--seed[= ]|PTSHIM_SEED=)([0-9]+).*/\2/p' <<<"$1"
}

# How a run ended and what it printed, with hexadecimal addresses masked:
# two runs that fail the same way have the same signature.
run_signature() { # stdout-file stderr-file status
  echo "exit status $3"
  echo "--- stdout"
  sed -E 's/0x[0-9a-fA-F]+/0x?/g' "$1"
  echo "--- stderr"
  sed -E 's/0x[0-9a-fA-F]+/0x?/g' "$2"
}
