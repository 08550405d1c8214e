#!/usr/bin/env bash
# Take a picture of a ptshim trace (--trace=FILE) as speedscope shows it:
# headless Chromium opens speedscope's offline viewer (its npm package) from a
# server on the loopback address, and Playwright saves a screenshot.
#
#   bash scripts/trace-screenshot.sh TRACE.json OUT.png [THREAD]
#   bash scripts/trace-screenshot.sh --example OUT.png
#
# --example: README's picture: scripts/timeline-example/bank.c, built and run
# under the launcher of the build tree (PTSHIM_BUILD_DIR, default build/) with
# --timeslice=1ms --trace, then its first teller's track.
# THREAD: which thread's track to show, counted from 1 in speedscope's order
# (default 1). The viewer and its driver are installed on first use, Chromium
# from Debian's packages (as root), speedscope and playwright-core from the npm
# registry into PTSHIM_TOOLS_DIR (default: ~/.cache/ptshim-tools); nothing is
# fetched into the checkout. Used for README's timeline picture.
set -euo pipefail

usage() {
  echo "usage: $0 TRACE.json OUT.png [THREAD] | --example OUT.png" >&2
  exit 2
}
(($# == 2 || $# == 3)) || usage
if [[ $1 == --example ]]; then
  (($# == 2)) || usage
  root=$(cd -- "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/.." && pwd)
  build_dir=${PTSHIM_BUILD_DIR:-$root/build}
  bash "$root/scripts/setup.sh"
  example=$(mktemp -d)
  trap 'rm -rf "$example"' EXIT
  cc -O1 -g -Wall -Wextra -Werror -pthread "$root/scripts/timeline-example/bank.c" -o "$example/bank"
  "$build_dir/bin/ptshim" --timeslice=1ms --trace="$example/bank.json" -- "$example/bank" >/dev/null
  bash "$0" "$example/bank.json" "$2" 3
  exit
fi
trace=$(readlink -f -- "$1")
out=$(readlink -m -- "$2")
thread=${3:-1}
[[ -f $trace ]] || {
  echo "$0: no trace file: $1" >&2
  exit 2
}
[[ $thread =~ ^[1-9][0-9]*$ ]] || {
  echo "$0: THREAD must be a positive number, not '$thread'" >&2
  exit 2
}

tools=${PTSHIM_TOOLS_DIR:-$HOME/.cache/ptshim-tools}
speedscope_version=1.25.0
playwright_version=1.65.1

if [[ ! -x /usr/bin/chromium ]]; then
  echo "trace-screenshot: installing chromium" >&2
  apt-get install -y -qq chromium >/dev/null || {
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  }
fi
if [[ ! -f $tools/node_modules/speedscope/dist/release/index.html ||
  ! -d $tools/node_modules/playwright-core ]]; then
  echo "trace-screenshot: installing speedscope and playwright-core into $tools" >&2
  mkdir -p "$tools"
  [[ -f $tools/package.json ]] || (cd "$tools" && npm init -y >/dev/null)
  npm install --prefix "$tools" --silent --no-audit --no-fund \
    "speedscope@$speedscope_version" "playwright-core@$playwright_version" >/dev/null
fi

site=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$site"
}
trap cleanup EXIT
cp -r "$tools/node_modules/speedscope/dist/release/." "$site/"
cp "$trace" "$site/trace.json"

# A free loopback port, then the server on it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.1)" 2>/dev/null && break
  sleep 0.1
done

url="http://127.0.0.1:$port/index.html#profileURL=http://127.0.0.1:$port/trace.json"
NODE_PATH=$tools/node_modules timeout 120 node - "$url" "$out" "$thread" <<'EOF'
const { chromium } = require('playwright-core');
const [url, out, thread] = process.argv.slice(2);
(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1600, height: 240 } });
  await page.goto(url);
  await page.waitForSelector('canvas', { timeout: 30000 });
  await page.waitForTimeout(1000);
  // speedscope shows one thread at a time; 'n' moves to the next one.
  for (let i = 1; i < Number(thread); i++) {
    await page.keyboard.press('n');
    await page.waitForTimeout(300);
  }
  await page.waitForTimeout(700);
  await page.screenshot({ path: out });
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
EOF
echo "trace-screenshot: wrote $out" >&2
