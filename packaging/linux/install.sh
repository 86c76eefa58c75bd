#!/usr/bin/env sh
# Install the PixDesk bundle for the current user (no root): ~/.local/opt/pixdesk, a `pixdesk`
# launcher in ~/.local/bin, the desktop entry and icons. `./install.sh --uninstall` removes them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix="${PREFIX:-$HOME/.local}"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$prefix/opt/pixdesk" "$prefix/bin/pixdesk" "$data/applications/pixdesk.desktop"
  find "$data/icons/hicolor" -name 'pixdesk.*' -delete 2>/dev/null || true
  echo "PixDesk removed."
  exit 0
fi
mkdir -p "$prefix/opt" "$prefix/bin" "$data/applications"
rm -rf "$prefix/opt/pixdesk"
cp -a "$here/pixdesk" "$prefix/opt/pixdesk"
ln -sf "$prefix/opt/pixdesk/pixdesk" "$prefix/bin/pixdesk"
sed "s|^Exec=pixdesk|Exec=$prefix/bin/pixdesk|" "$here/share/applications/pixdesk.desktop" > "$data/applications/pixdesk.desktop"
cp -a "$here/share/icons" "$data/"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "PixDesk installed: run 'pixdesk' (make sure $prefix/bin is on your PATH)."
echo "Qt needs these system libraries: libpulse0 libegl1 libgl1 libxkbcommon-x11-0 libxcb-cursor0 libfontconfig1."
