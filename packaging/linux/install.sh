#!/usr/bin/env sh
# Install the PixDesk bundle for the current user (no root): ~/.local/opt/pixdesk, a `pixdesk`
# launcher in ~/.local/bin, the desktop entry, icons and AppStream metainfo, then refresh the desktop,
# MIME and icon caches (each only where its tool is installed). `./install.sh --uninstall` removes them.
# PREFIX (default ~/.local) and XDG_DATA_HOME (default ~/.local/share) choose where.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix="${PREFIX:-$HOME/.local}"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
metainfo=io.pixdesk.PixDesk.metainfo.xml

# Tell the desktop about the change. Best effort: a missing tool or a failing one never fails the script.
refresh_caches() {
  if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$data/applications" ]; then
    update-desktop-database -q "$data/applications" >/dev/null 2>&1 || true
  fi
  if command -v update-mime-database >/dev/null 2>&1 && [ -d "$data/mime" ]; then
    update-mime-database "$data/mime" >/dev/null 2>&1 || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -d "$data/icons/hicolor" ]; then
    gtk-update-icon-cache -q -f -t "$data/icons/hicolor" >/dev/null 2>&1 || true
  fi
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$prefix/opt/pixdesk"
  rm -f "$prefix/bin/pixdesk" "$data/applications/pixdesk.desktop" "$data/metainfo/$metainfo"
  if [ -d "$data/icons/hicolor" ]; then
    find "$data/icons/hicolor" -path '*/apps/pixdesk.*' -type f -exec rm -f {} + 2>/dev/null || true
  fi
  refresh_caches
  echo "PixDesk removed."
  exit 0
fi

mkdir -p "$prefix/opt" "$prefix/bin" "$data/applications" "$data/metainfo" "$data/icons"
rm -rf "$prefix/opt/pixdesk"
cp -a "$here/pixdesk" "$prefix/opt/pixdesk"
ln -sf "$prefix/opt/pixdesk/pixdesk" "$prefix/bin/pixdesk"
sed "s|^Exec=pixdesk|Exec=$prefix/bin/pixdesk|" "$here/share/applications/pixdesk.desktop" > "$data/applications/pixdesk.desktop"
cp "$here/share/metainfo/$metainfo" "$data/metainfo/$metainfo"
cp -a "$here/share/icons/." "$data/icons/"
refresh_caches
echo "PixDesk installed: run 'pixdesk' (make sure $prefix/bin is on your PATH)."
echo "It uses the desktop's own X11/Wayland, OpenGL/EGL, fontconfig, GLib, D-Bus and PulseAudio libraries"
echo "(on Debian/Ubuntu: libegl1 libgl1 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libpulse0)."
