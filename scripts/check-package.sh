#!/usr/bin/env bash
# The Debian package: configured for /usr in a scratch build tree, built
# (the installed targets only) and packed with `cpack -G DEB`; its control
# data must declare its dependencies, and unpacked into a scratch root
# (`dpkg -x`) its launcher must run the demo from there, on one kernel thread.
#
#   bash scripts/check-package.sh SOURCE_DIR
set -uo pipefail
source_dir=$(readlink -f -- "${1:?usage: check-package.sh SOURCE_DIR}")
# shellcheck source=scripts/check-lib.sh
source "$source_dir/scripts/check-lib.sh"
build=$tmp/build
if cmake -S "$source_dir" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >"$tmp/log" 2>&1 &&
  cmake --build "$build" -j"$(nproc)" --target ptshim ptshim-demo ptshim-explore >>"$tmp/log" 2>&1 &&
  (cd "$build" && cpack -G DEB) >>"$tmp/log" 2>&1; then
  ok built
else
  bad built "$(tail -30 "$tmp/log")"
  echo "$passed passed, $failed failed"
  exit 1
fi
deb=$(find "$build" -maxdepth 1 -name 'ptshim_*.deb' -print -quit)
if [[ -n $deb ]]; then ok "package $(basename -- "$deb")"; else bad package "no .deb in $build"; exit 1; fi
depends=$(dpkg-deb -f "$deb" Depends)
if [[ $depends == *libunwind8* && $depends == *libc6* ]]; then
  ok "depends: $depends"
else
  bad depends "Depends: $depends"
fi
root=$tmp/root
dpkg -x "$deb" "$root"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for f in usr/bin/ptshim "usr/lib/$multiarch/libptshim.so" usr/libexec/ptshim/ptshim-demo \
  usr/libexec/ptshim/ptshim-explore usr/share/man/man1/ptshim.1 \
  usr/share/ptshim/gdb/ptshim-gdb.py usr/share/ptshim/gdb/ptshim_gdb/__init__.py \
  "usr/share/gdb/auto-load/usr/lib/$multiarch/libptshim.so-gdb.py"; do
  if [[ -e $root/$f ]]; then ok "has /$f"; else bad "has /$f" "missing from the package"; fi
done
out=$(cd / && env -u LD_PRELOAD "$root/usr/bin/ptshim" 2>&1)
if [[ $out =~ verdict:\ all\ [0-9]+\ threads\ ran\ on\ 1\ kernel\ thread ]]; then
  ok demo-from-the-unpacked-root
else
  bad demo-from-the-unpacked-root "$out"
fi
# The gdb extension, auto-loaded from the unpacked library's .debug_gdb_scripts,
# which finds the package relative to the library (installed layout).
if command -v gdb >/dev/null; then
  lib="$root/usr/lib/$multiarch/libptshim.so"
  out=$(cd / && timeout 60 gdb -batch -nx -iex "add-auto-load-safe-path $root" \
    -ex "set startup-with-shell off" -ex "set environment LD_PRELOAD $lib" \
    -ex "break main" -ex run -ex "info uthreads" -ex kill \
    "$root/usr/libexec/ptshim/ptshim-demo" 2>&1)
  if [[ $out =~ \*\ 1\ +\"main\"\ +running ]]; then
    ok gdb-extension-from-the-unpacked-root
  else
    bad gdb-extension-from-the-unpacked-root "$out"
  fi
fi
echo "$passed passed, $failed failed"
((failed == 0))
