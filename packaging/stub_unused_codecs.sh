#!/usr/bin/env bash
# Replace PyAV's HEVC (x265) and AV1 (SVT-AV1) *encoder* libraries in a built bundle with tiny stubs.
# The simulator encodes H.264 only; libavcodec links these two (27 MB) but calls them only when
# someone encodes HEVC or AV1, which then fails cleanly ("could not open encoder").
# Each stub exports exactly the symbols libavcodec takes from the real library; needs cc and nm.
set -euo pipefail
libs_dir="$1"
command -v cc >/dev/null && command -v nm >/dev/null || { echo "stub: cc/nm missing, keeping the real libraries"; exit 0; }
avcodec=$(ls "$libs_dir"/libavcodec-*.so* 2>/dev/null | head -1) || true
[ -n "$avcodec" ] || { echo "stub: no PyAV libavcodec in $libs_dir"; exit 0; }
work=$(mktemp -d)
for prefix in libx265 libSvtAv1Enc; do
  real=$(ls "$libs_dir"/$prefix-*.so* 2>/dev/null | head -1) || true
  [ -n "$real" ] || continue
  soname=$(basename "$real")
  nm -D --defined-only "$real" | awk '{print $3}' | sort -u > "$work/defined"
  nm -D --undefined-only "$avcodec" | awk '{print $2}' | sed 's/@.*//' | sort -u > "$work/used"
  comm -12 "$work/defined" "$work/used" > "$work/symbols"
  {
    echo "/* stub of $soname: encoders unavailable */"
    while read -r sym; do
      case "$sym" in
        x265_*) echo "long $sym(void) { return 0; }" ;;          # NULL API: encoder init fails
        *) echo "long $sym(void) { return (long)0x80001000; }" ;; # EB_ErrorInsufficientResources
      esac
    done < "$work/symbols"
  } > "$work/stub.c"
  cc -shared -fPIC -O2 -s -Wl,-soname,"$soname" -o "$work/$soname" "$work/stub.c"
  before=$(stat -c %s "$real")
  mv "$work/$soname" "$real"
  echo "stub: $soname $((before / 1000000)) MB -> $(( $(stat -c %s "$real") / 1000 )) KB ($(wc -l < "$work/symbols") symbols)"
done
rm -rf "$work"
