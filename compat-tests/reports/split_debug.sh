#!/usr/bin/env bash
# Moves a program's symbols and debug information into a separate debug file,
# as distributions do, and strips the program:
#   split_debug.sh debuglink PROGRAM   PROGRAM's .debug/ holds NAME.debug, named by .gnu_debuglink
#   split_debug.sh beside PROGRAM      NAME.debug next to PROGRAM, named by .gnu_debuglink
#   split_debug.sh build-id PROGRAM DIR   DIR/.build-id/xx/rest.debug, no .gnu_debuglink
#   split_debug.sh minidebuginfo PROGRAM  the local functions' symbols, xz-compressed, in
#                                         PROGRAM's .gnu_debugdata (MiniDebugInfo, as Fedora)
set -euo pipefail
mode=$1 program=$2
dir=$(dirname -- "$program") name=$(basename -- "$program")
case $mode in
  debuglink | beside)
    [ "$mode" = debuglink ] && dir=$dir/.debug
    mkdir -p "$dir"
    objcopy --only-keep-debug "$program" "$dir/$name.debug"
    strip --strip-all "$program"
    objcopy --add-gnu-debuglink="$dir/$name.debug" "$program"
    ;;
  build-id)
    id=$(readelf -n "$program" | awk '/Build ID:/ {print $3}')
    [ -n "$id" ] || { echo "split_debug.sh: $program has no build-id" >&2; exit 1; }
    mkdir -p "$3/.build-id/${id:0:2}"
    objcopy --only-keep-debug "$program" "$3/.build-id/${id:0:2}/${id:2}.debug"
    strip --strip-all "$program"
    ;;
  minidebuginfo)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    nm -D "$program" --format=posix --defined-only | awk '{print $1}' | sort >"$work/dynamic"
    nm "$program" --format=posix --defined-only | awk '$2 == "T" || $2 == "t" {print $1}' |
      sort >"$work/functions"
    comm -13 "$work/dynamic" "$work/functions" >"$work/keep"
    objcopy --only-keep-debug "$program" "$work/debug"
    objcopy -S --remove-section .gdb_index --remove-section .comment \
      --keep-symbols="$work/keep" "$work/debug" "$work/mini"
    strip --strip-all -R .comment "$program"
    xz "$work/mini"
    objcopy --add-section .gnu_debugdata="$work/mini.xz" "$program"
    ;;
  *) echo "split_debug.sh: unknown mode $mode" >&2; exit 2 ;;
esac
