#!/usr/bin/env bash
# Real multi-threaded programs from Debian under ptshim, each checked against
# its own native run.
#   programs.sh check LIB [MB] [PROGRAM]...   the CTest cases (label "programs", one
#       case per PROGRAM): small inputs; under ptshim each must give the native run's
#       output and create no kernel thread (strace: no clone with CLONE_THREAD), while
#       natively it creates some
#   programs.sh bench LIB [MB] [PROGRAM]...   larger inputs; times each natively, pinned
#       to one CPU (taskset -c 0) and under the shim (median of RUNS=3) and prints a table
# PROGRAM (default: all of them):
#   compressors  pigz, xz, zstd (and zstd -d), lbzip2 and sort --parallel on MB MiB of text
#                (MB: 4, bench 40)
#   openmp       scripts/programs/openmp_barriers.c, built here with gcc -fopenmp
#                (libgomp), OMP_NUM_THREADS=4: reductions and thousands of barriers
#                (2000 rounds in both modes: 0.3 s natively)
#   tesseract    OCR (tesseract uses OpenMP) of a page of text rendered by ImageMagick
#   rav1e        the AV1 encoder, in Rust (rayon threads), on a generated y4m video
#   imagemagick  convert (OpenMP): resize and blur of a generated image, to PPM
#   redis        redis-server with io-threads 4, threaded reads and jemalloc's background
#                thread, driven by redis-benchmark; a SET key must then GET back
#   pbzip2       pbzip2 -p4, compress and decompress (two commands)
#   stress-ng    stress-ng --mutex 4 with bounded ops: exit 0 and "successful run completed"
# Installs, with apt-get and only what the chosen programs lack (quiet when nothing
# does): strace; pigz zstd lbzip2 xz-utils (sort is coreutils); gcc (libgomp);
# tesseract-ocr tesseract-ocr-eng imagemagick fonts-dejavu-core; rav1e python3;
# imagemagick; redis-server redis-tools; pbzip2; stress-ng.
# Every run is limited to PROGRAM_TIMEOUT seconds (default 120) so that a program that
# hangs under the shim is reported, not waited for.
set -euo pipefail
usage="usage: programs.sh check|bench LIB [MB] [PROGRAM]..."
mode=${1:?$usage}
lib=${2:?$usage}
shift 2
[[ $mode == check || $mode == bench ]] || { echo "$usage" >&2; exit 2; }
mb=$([ "$mode" = bench ] && echo 40 || echo 4)
all=(compressors openmp tesseract rav1e imagemagick redis pbzip2 stress-ng)
chosen=()
for arg; do
  if [[ $arg =~ ^[0-9]+$ ]]; then
    mb=$arg
  elif [[ " ${all[*]} " == *" $arg "* ]]; then
    chosen+=("$arg")
  else
    echo "programs.sh: no program '$arg' (have: ${all[*]})" >&2
    exit 2
  fi
done
[ ${#chosen[@]} -gt 0 ] || chosen=("${all[@]}")
runs=${RUNS:-3}
limit=${PROGRAM_TIMEOUT:-120}
[ -f "$lib" ] || { echo "programs.sh: no library at $lib" >&2; exit 2; }
lib=$(readlink -f "$lib")
here=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")" && pwd)
# Debian's ImageMagick by its own name: `convert` on PATH is an alternatives link that
# another package, or a wrapper earlier on PATH, may stand in for.
magick=/usr/bin/convert-im6.q16

# --- packages -------------------------------------------------------------------
declare -A packages=(
  [compressors]="pigz zstd lbzip2 xz-utils"
  [openmp]="gcc"
  [tesseract]="tesseract-ocr tesseract-ocr-eng imagemagick fonts-dejavu-core"
  [rav1e]="rav1e python3"
  [imagemagick]="imagemagick"
  [redis]="redis-server redis-tools"
  [pbzip2]="pbzip2"
  [stress-ng]="stress-ng"
)
needed=()
for p in strace $(for c in "${chosen[@]}"; do echo "${packages[$c]}"; done | tr ' ' '\n' | sort -u); do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || needed+=("$p")
done
if [ ${#needed[@]} -gt 0 ]; then
  sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  # CTest runs the cases one at a time (RUN_SERIAL), but a run by hand may overlap
  # another: wait for dpkg's lock rather than fail on it.
  apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends)
  "${apt[@]}" update >/dev/null
  "${apt[@]}" install "${needed[@]}" >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ptshim-programs.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# --- inputs, made natively before anything is measured --------------------------
big() { [ "$mode" = bench ]; }
make_text() { # Compressible but not trivial: base64 of pseudo-random bytes, fixed seed.
  [ -f data ] && return
  head -c $((mb * 1024 * 1024 * 3 / 4)) <(openssl enc -aes-128-ctr -nosalt -pass pass:ptshim \
    -in /dev/zero 2>/dev/null || yes ptshim-data) | base64 > data
}
make_page() { # lines of text set in DejaVu Sans on a white page, for tesseract
  local lines=$1 i text=""
  local sentences=("Pack my box with five dozen liquor jugs" "Sphinx of black quartz, judge my vow"
    "How vexingly quick daft zebras jump" "The quick brown fox jumps over the lazy dog")
  for ((i = 1; i <= lines; i++)); do
    text+="${sentences[i % 4]}, line $((i * 37 % 1000)).
"
  done
  # Generous line spacing: tesseract's layout analysis splits tightly set lines into
  # columns, and a page it reads right is a better test than one it garbles.
  "$magick" -size 1400x$((lines * 56 + 80)) xc:white \
    -font /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf -pointsize 28 -interline-spacing 20 \
    -fill black -annotate +40+60 "$text" -type Grayscale -depth 8 page.png
}
make_video() { # W H FRAMES: a ramp with a moving inverted disc, 4:2:0 y4m
  python3 - "$@" > video.y4m <<'EOF'
import sys
w, h, frames = map(int, sys.argv[1:4])
ramp = bytes(range(256)) * (w // 256 + 2)
invert = bytes(255 - v for v in range(256))
out = sys.stdout.buffer
out.write(b"YUV4MPEG2 W%d H%d F25:1 Ip A1:1 C420jpeg\n" % (w, h))
u = b"".join(ramp[(3 * j) & 255:][: w // 2] for j in range(h // 2))
for t in range(frames):
    out.write(b"FRAME\n")
    cx, cy, r = w // 5 + 4 * t, h // 3 + 2 * t, h // 6
    for j in range(h):
        row = ramp[(2 * j + 3 * t) & 255:][:w]
        d = r * r - (j - cy) ** 2
        if d > 0:
            x0, x1 = max(cx - int(d ** 0.5), 0), min(cx + int(d ** 0.5), w)
            if x0 < x1:
                row = row[:x0] + row[x0:x1].translate(invert) + row[x1:]
        out.write(row)
    out.write(u)
    out.write(bytes([128 + t % 64]) * (w // 2 * (h // 2)))
EOF
}
make_image() { # W H: a swirled gradient times a checkerboard, 8-bit PPM
  "$magick" -size "$1x$2" gradient:red-blue -swirl 180 \( -size "$1x$2" pattern:checkerboard \) \
    -compose multiply -composite -depth 8 image.ppm
}

# --- how one run is made ------------------------------------------------------------
# A run is `run_<kind> LABEL WAY` with WAY native, pinned or shim: it leaves what is
# compared with the native run in out.WAY (stdout, or for redis and stress-ng their
# answers) and its diagnostics in err.WAY, and returns the program's status. When
# $tracing is set the program runs under strace, which writes trace.WAY.
declare -A cmd kind
tracing=""
way_prefix() { # WAY -> the argv prefix that makes the run that way
  case $1 in
    native) prefix=() ;;
    pinned) prefix=(taskset -c 0) ;;
    shim) prefix=(env "LD_PRELOAD=$lib") ;;
  esac
  # seccomp-bpf: the program stops only at clone, not at every system call.
  [ -z "$tracing" ] || prefix=(strace -f -qq --seccomp-bpf -e "trace=clone,clone3" -o "trace.$1" "${prefix[@]}")
  # The limit is outermost; -k: a program that ignores SIGTERM is killed 5 s later.
  prefix=(timeout -k 5 "$limit" "${prefix[@]}")
}
run_filter() { # the command's stdout is its result
  local argv
  read -r -a argv <<< "${cmd[$1]}"
  way_prefix "$2"
  # In a subshell with its stderr dropped, like the redis server below: a program
  # killed by a signal is reported once, by the caller, not also by a job-control line.
  ("${prefix[@]}" "${argv[@]}" < /dev/null > "out.$2" 2> "err.$2" || exit) 2> /dev/null
}
run_stress() { # stress-ng reports, it writes no data: keep its verdict lines, less pid and time
  local argv status=0
  read -r -a argv <<< "${cmd[$1]}"
  way_prefix "$2"
  ("${prefix[@]}" "${argv[@]}" < /dev/null > "err.$2" 2>&1 || exit) 2> /dev/null || status=$?
  sed -nE 's/^stress-ng: [a-z]+: +\[[0-9]+\] //; s/ in [0-9.]+s.*$//; /^(dispatching|successful)/p' \
    "err.$2" > "out.$2"
  [ "$status" -ne 0 ] || grep -q '^successful run completed' "out.$2" || status=1
  return "$status"
}
free_port() { # a port nothing listens on (connect is refused), from a wide random range
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<> "/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
run_redis() { # the server runs the WAY (only it is traced); the client always natively
  local port server status=0 i start end
  port=$(free_port)
  way_prefix "$2"
  # No persistence: the run must leave nothing behind and not wait for a disk.
  # In a subshell whose own stderr is dropped: it, not this shell, reaps the server,
  # so a server killed by a signal is reported once, not also by a job-control line.
  ("${prefix[@]}" redis-server --bind 127.0.0.1 --port "$port" --io-threads 4 \
    --io-threads-do-reads yes --jemalloc-bg-thread yes --save '' --appendonly no \
    --dir "$work" --logfile '' < /dev/null > "err.$2" 2>&1 || exit) 2> /dev/null &
  server=$!
  cli=(timeout 10 redis-cli -h 127.0.0.1 -p "$port")
  for ((i = 0; i < 200; i++)); do
    [ "$("${cli[@]}" ping 2>/dev/null)" = PONG ] && break
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
  done
  if ! kill -0 "$server" 2>/dev/null; then # it ended before serving: that is the failure
    wait "$server" || status=$?
    return $((status ? status : 1))
  fi
  start=$(date +%s%N)
  timeout "$limit" redis-benchmark -h 127.0.0.1 -p "$port" -q -n "${cmd[$1]}" -t set,get \
    < /dev/null > bench.out 2>&1 || status=$?
  end=$(date +%s%N)
  elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  # The answers that must match the native run's: a SET key reads back.
  { "${cli[@]}" set ptshim-key ptshim-value && "${cli[@]}" get ptshim-key; } > "out.$2" 2>&1 || true
  "${cli[@]}" shutdown nosave > /dev/null 2>&1 || true
  local server_status=0
  wait "$server" || server_status=$?
  tr '\r' '\n' < bench.out | grep -v '^ *$' | tail -2 >> "err.$2"
  [ "$status" -ne 0 ] && { echo "redis-benchmark: $(how_ended "$status")" >> "err.$2"; return "$status"; }
  return "$server_status"
}

# --- the programs --------------------------------------------------------------------
labels=() # in order of the table
add() { # LABEL KIND COMMAND
  labels+=("$1")
  kind[$1]=$2
  cmd[$1]=$3
}
for c in "${chosen[@]}"; do
  case $c in
    compressors)
      make_text
      zstd -q -T4 -c data > data.zst
      # sort starts threads only for larger inputs (about 16 MB and up).
      sort_mb=$((mb > 32 ? mb : 32))
      for _ in $(seq $(((sort_mb + mb - 1) / mb))); do cat data; done > sortdata
      add pigz filter "pigz -p 4 -c data"
      add xz filter "xz -T4 -1 -c data"
      add zstd filter "zstd -T4 -q -c data"
      add "zstd -d" filter "zstd -T4 -q -d -c data.zst"
      add lbzip2 filter "lbzip2 -n4 -c data"
      add sort filter "sort --parallel=4 -S 64M sortdata"
      ;;
    openmp)
      gcc -O2 -fopenmp -o openmp_barriers "$here/programs/openmp_barriers.c"
      # The same 2000 rounds for the check as for the benchmark: they take 0.3 s
      # natively, so the time limit also catches a shim several hundred times slower
      # (as it is while each of libgomp's futex waits stops the kernel thread until
      # the next tick).
      add openmp filter "env OMP_NUM_THREADS=4 ./openmp_barriers 2000 20000"
      ;;
    tesseract)
      make_page "$(big && echo 20 || echo 4)"
      add tesseract filter "env OMP_NUM_THREADS=4 tesseract page.png -"
      ;;
    rav1e)
      # Fixed tiles and speed: with them the stream is the same whatever the number
      # of threads (checked natively with 1, 2 and 4), so the shim's must be too.
      make_video 320 240 "$(big && echo 30 || echo 6)"
      add rav1e filter "rav1e -q --threads 4 --tiles 4 --speed 10 --no-scene-detection video.y4m -o -"
      ;;
    imagemagick)
      # ImageMagick takes its thread limit from OpenMP (the CPU count unless
      # OMP_NUM_THREADS says) and splits a pass among more threads only for long rows
      # (a second thread from about 2,900 pixels with 4 allowed): hence 8400 wide.
      make_image 8400 "$(big && echo 1500 || echo 300)"
      add imagemagick filter "env OMP_NUM_THREADS=4 $magick image.ppm -resize 98% -blur 0x2 -depth 8 ppm:-"
      ;;
    redis)
      # Few requests: with more I/O threads than CPUs they spin against each other,
      # and natively this runs at about 1,000 requests/s on 2 CPUs.
      add redis redis "$(big && echo 10000 || echo 2000)"
      ;;
    pbzip2)
      make_text
      pbzip2 -p4 -c data > data.bz2
      add pbzip2 filter "pbzip2 -p4 -c data"
      add "pbzip2 -d" filter "pbzip2 -p4 -d -c data.bz2"
      ;;
    stress-ng)
      # Its mutex threads ask for SCHED_FIFO priorities; as root they get them and, on
      # a small machine, starve the parent before it forks the last instance, which
      # then finds the shared op budget spent and exits 3 ("could not create any
      # pthreads"): a third of native runs on 2 CPUs. Without CAP_SYS_NICE the request
      # fails, as stress-ng allows, and the runs are reliable.
      nice_cap=""
      [ "$(id -u)" -ne 0 ] || nice_cap="setpriv --bounding-set=-sys_nice "
      add stress-ng stress "${nice_cap}stress-ng --mutex 4 --mutex-ops $(big && echo 100000 || echo 5000) --temp-path $work"
      ;;
  esac
done
describe() { # LABEL -> the command line, for the report
  if [ "${kind[$1]}" = redis ]; then
    echo "redis-server --io-threads 4 --io-threads-do-reads yes --jemalloc-bg-thread yes;" \
      "redis-benchmark -q -n ${cmd[$1]} -t set,get; redis-cli set/get"
  else
    echo "${cmd[$1]}"
  fi
}

# --- running them ----------------------------------------------------------------------
how_ended() { # STATUS -> how the run ended, in words
  case $1 in
    124) echo "did not finish in $limit s (stopped by SIGTERM)" ;;
    137) echo "did not finish in $limit s and did not stop on SIGTERM (killed)" ;;
    *) if [ "$1" -gt 128 ]; then echo "killed by SIG$(kill -l $(($1 - 128)))"; else echo "exit status $1"; fi ;;
  esac
}
short_end() { # STATUS -> the same in a table cell
  case $1 in
    124 | 137) echo "timeout" ;;
    *) if [ "$1" -gt 128 ]; then echo "SIG$(kill -l $(($1 - 128)))"; else echo "exit-$1"; fi ;;
  esac
}
tail_of() { # FILE: its last lines, indented, for a failure report
  tail -n 3 "$1" | cut -c 1-300 | sed 's/^/    | /'
}
one_run() { # LABEL WAY -> status; seconds in $elapsed (redis: the benchmark's own time)
  local start end status=0
  start=$(date +%s%N)
  "run_${kind[$1]}" "$1" "$2" || status=$?
  end=$(date +%s%N)
  [ "${kind[$1]}" = redis ] || elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  return "$status"
}
median() { tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

failed=0
passed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check_one() { # LABEL: identity with the native run, then the kernel threads under strace
  local l=$1 st=0 native_threads shim_threads
  tracing=""
  one_run "$l" native || st=$?
  [ "$st" -eq 0 ] || { fail "$l: '$(describe "$l")' natively: $(how_ended "$st")"; tail_of err.native; return; }
  mv out.native want
  one_run "$l" shim || st=$?
  if [ "$st" -ne 0 ]; then
    # Say whether the output was complete: a program that hangs at exit differs
    # from one that never got through its work.
    local got="its output is not the native run's"
    cmp -s want out.shim && got="its output was complete and byte-identical"
    fail "$l: '$(describe "$l")' under ptshim: $(how_ended "$st"); $got"
    tail_of err.shim
    return
  fi
  cmp -s want out.shim || { fail "$l: '$(describe "$l")' under ptshim: output differs from the native run"; return; }
  tracing=1
  one_run "$l" native || st=$?
  [ "$st" -eq 0 ] || { fail "$l: natively under strace: $(how_ended "$st")"; tail_of err.native; return; }
  # Two native runs that differ would make the comparison with the shim meaningless.
  cmp -s want out.native || { fail "$l: '$(describe "$l")': two native runs differ"; return; }
  one_run "$l" shim || st=$?
  [ "$st" -eq 0 ] || { fail "$l: under ptshim and strace: $(how_ended "$st")"; tail_of err.shim; return; }
  cmp -s want out.shim || { fail "$l: under ptshim and strace: output differs from the native run"; return; }
  native_threads=$(grep -c CLONE_THREAD trace.native || true)
  shim_threads=$(grep -c CLONE_THREAD trace.shim || true)
  if [ "$native_threads" -eq 0 ] || [ "$shim_threads" -ne 0 ]; then
    fail "$l: '$(describe "$l")' made $native_threads kernel threads natively, $shim_threads under ptshim (want >0, 0)"
    return
  fi
  echo "ok: $l: '$(describe "$l")' same as native, $native_threads kernel threads natively, none made under ptshim"
  passed=$((passed + 1))
}
notes=()
bench_one() { # LABEL: a table row; the shim is timed only if its first run was right
  local l=$1 st=0 shim_ok="" n=() p=() s=() nm pm sm ratio
  tracing=""
  one_run "$l" native || st=$?
  [ "$st" -eq 0 ] || { fail "$l natively: $(how_ended "$st")"; tail_of err.native; return; }
  mv out.native want
  one_run "$l" shim || st=$?
  if [ "$st" -ne 0 ]; then
    sm=$(short_end "$st")
    local complete=""
    cmp -s want out.shim && complete=", its output complete and byte-identical"
    notes+=("$l under ptshim: $(how_ended "$st")$complete")
  elif ! cmp -s want out.shim; then
    sm=differs
    notes+=("$l under ptshim: output differs from the native run")
  else
    shim_ok=1
  fi
  for _ in $(seq "$runs"); do
    one_run "$l" native && n+=("$elapsed")
    one_run "$l" pinned && p+=("$elapsed")
    if [ -n "$shim_ok" ]; then
      if one_run "$l" shim; then s+=("$elapsed"); else shim_ok="" sm=$(short_end $?); fi
    fi
  done
  nm=$(echo "${n[*]}" | median) pm=$(echo "${p[*]}" | median)
  ratio=-
  if [ -n "$shim_ok" ]; then
    sm=$(echo "${s[*]}" | median)
    ratio=$(awk -v s="$sm" -v p="$pm" 'BEGIN { printf "%.2f", s / p }')
  else
    failed=$((failed + 1))
  fi
  printf '%-12s %9s %9s %9s %11s\n' "$l" "$nm" "$pm" "$sm" "$ratio"
}

if [ "$mode" = check ]; then
  for l in "${labels[@]}"; do check_one "$l"; done
  echo "$passed passed, $failed failed"
else
  printf '%-12s %9s %9s %9s %11s\n' program native pinned shim shim/pinned
  for l in "${labels[@]}"; do bench_one "$l"; done
  echo "seconds, median of $runs (redis: the redis-benchmark run); commands:"
  for l in "${labels[@]}"; do echo "  $l: $(describe "$l")"; done
  for note in "${notes[@]}"; do echo "$note"; done
fi
[ "$failed" -eq 0 ]
