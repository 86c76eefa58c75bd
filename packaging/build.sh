#!/usr/bin/env bash
# Build the desktop bundle into dist/: the PyInstaller one-folder app (dist/pixdesk/), and on Linux a
# .deb (dpkg-deb) and a .tar.gz with an install script. Run through `make bundle`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
VERSION=$("$PY" -c "import pixdesk; print(pixdesk.__version__)")
ARCH_DEB=$(dpkg --print-architecture 2>/dev/null || echo amd64)
ARCH=$(uname -m)
rm -rf dist/pixdesk build/pyinstaller
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/pixdesk.spec
[ "$(uname -s)" = "Linux" ] || { echo "Built dist/pixdesk (no .deb/.tar.gz off Linux)"; exit 0; }
bash packaging/stub_unused_codecs.sh dist/pixdesk/_internal/av.libs
# Strip symbols, except from the FFmpeg libraries Qt Multimedia ships (stripping breaks their layout:
# "ELF load command address/offset not page-aligned").
if command -v strip >/dev/null; then
  find dist/pixdesk/_internal -type f -name '*.so*' ! -path '*/PySide6/Qt/lib/libav*' \
    ! -path '*/PySide6/Qt/lib/libsw*' -exec strip --strip-unneeded {} + 2>/dev/null || true
fi

# Shared desktop integration files, laid out as under /usr/share.
share=build/share
rm -rf "$share" && mkdir -p "$share/applications" "$share/metainfo" "$share/icons/hicolor/scalable/apps"
cp resources/pixdesk.desktop "$share/applications/pixdesk.desktop"
sed "s/@VERSION@/$VERSION/" resources/io.pixdesk.PixDesk.metainfo.xml > "$share/metainfo/io.pixdesk.PixDesk.metainfo.xml"
cp resources/icons/pixdesk.svg "$share/icons/hicolor/scalable/apps/pixdesk.svg"
for size in 16 24 32 48 64 128 256 512; do
  mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
  cp "resources/icons/pixdesk-$size.png" "$share/icons/hicolor/${size}x${size}/apps/pixdesk.png"
done

# .tar.gz for any Linux: the bundle, the desktop files and install.sh
tarroot=build/tar/pixdesk-$VERSION
rm -rf build/tar && mkdir -p "$tarroot"
cp -a dist/pixdesk "$tarroot/pixdesk"
cp -a "$share" "$tarroot/share"
cp packaging/linux/install.sh "$tarroot/install.sh"
tar -C build/tar -czf "dist/pixdesk-$VERSION-linux-$ARCH.tar.gz" "pixdesk-$VERSION"

# .deb: the bundle under /opt/pixdesk, a launcher in /usr/bin, desktop entry, icons, metainfo
root=build/deb/root
rm -rf build/deb && mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share"
cp -a dist/pixdesk "$root/opt/pixdesk"
cp -a "$share/." "$root/usr/share/"
cat > "$root/usr/bin/pixdesk" <<'LAUNCH'
#!/bin/sh
exec /opt/pixdesk/pixdesk "$@"
LAUNCH
chmod 0755 "$root/usr/bin/pixdesk"
size_kb=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: pixdesk
Version: $VERSION
Section: video
Priority: optional
Architecture: $ARCH_DEB
Installed-Size: $size_kb
Depends: libpulse0, libegl1, libgl1, libfontconfig1, libfreetype6, libglib2.0-0 | libglib2.0-0t64, libx11-6, libxext6, libxrender1, libxrandr2, libgssapi-krb5-2, libxkbcommon0, libxkbcommon-x11-0, libdbus-1-3, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-randr0, libxcb-render-util0, libxcb-image0, libxcb-xkb1, libx11-xcb1
Maintainer: PixDesk developers <dev@pixdesk.invalid>
Homepage: https://pixdesk.invalid
Description: Turn a still image into a short video (PixVerse v5, AI/ML API)
 Drop a picture in, describe the motion, optionally give the character a line to speak,
 and watch the job in a live queue. Includes a built-in simulator for offline demo mode.
CONTROL
find "$root" -type d -exec chmod 0755 {} +
dpkg-deb --root-owner-group --build "$root" "dist/pixdesk_${VERSION}_${ARCH_DEB}.deb" >/dev/null
echo "Built:"
ls -la dist | grep -E "pixdesk" || true
du -sh dist/pixdesk
