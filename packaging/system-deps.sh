#!/usr/bin/env bash
# Debian packages Qt (and Qt Multimedia) load at run time, plus the tools named in EXTRA_DEBS. Installs
# what is missing when root, otherwise prints the exact command to run. Prints at most one line.
set -euo pipefail
declare -A libs=(
  [libpulse.so.0]=libpulse0
  [libEGL.so.1]=libegl1
  [libGL.so.1]=libgl1
  [libfontconfig.so.1]=libfontconfig1
  [libxkbcommon.so.0]=libxkbcommon0
  [libxkbcommon-x11.so.0]=libxkbcommon-x11-0
  [libdbus-1.so.3]=libdbus-1-3
  [libxcb-cursor.so.0]=libxcb-cursor0
  [libxcb-icccm.so.4]=libxcb-icccm4
  [libxcb-keysyms.so.1]=libxcb-keysyms1
  [libxcb-shape.so.0]=libxcb-shape0
  [libxcb-randr.so.0]=libxcb-randr0
  [libxcb-render-util.so.0]=libxcb-render-util0
  [libxcb-image.so.0]=libxcb-image0
  [libxcb-xinerama.so.0]=libxcb-xinerama0
  [libxcb-xkb.so.1]=libxcb-xkb1
  [libX11-xcb.so.1]=libx11-xcb1
  [libglib-2.0.so.0]=libglib2.0-0
)
[ "$(uname -s)" = "Linux" ] || exit 0
command -v ldconfig >/dev/null || exit 0
have=$(ldconfig -p 2>/dev/null || true)
missing=()
for lib in "${!libs[@]}"; do
  grep -q "$lib" <<<"$have" || missing+=("${libs[$lib]}")
done
# Extra tools wanted only when asked (CI: the bundle build and its checks): EXTRA_DEBS="binutils lintian"
for pkg in ${EXTRA_DEBS:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
# At most one line of output: apt's own chatter goes to a log, shown only when something fails.
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
else
  echo "PixDesk needs these Debian packages; run: sudo apt-get install -y ${missing[*]}" >&2
fi
