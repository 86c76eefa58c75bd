"""Copy the licences of what the PixDesk bundle ships into one folder of the bundle.

    python packaging/linux/collect_licenses.py DEST

Walks pixdesk's runtime requirements (markers evaluated for this interpreter) and copies each
distribution's licence files into DEST/<name>-<version>/, adds CPython's licence and the GNU licence texts
that the bundled Qt and FFmpeg libraries are distributed under, and writes DEST/README.txt with one line
per component. Run by build.sh with the venv's Python.
"""

from __future__ import annotations

import re
import shutil
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

LICENSE_NAME = re.compile(r"(^|/)(licen[cs]e|copying|notice|authors)[^/]*$", re.IGNORECASE)
# Libraries inside the bundle that come from wheels without their own licence file.
NATIVE = [
    ("Qt 6 (PySide6/Qt)", "LGPL-3.0-only", "LGPL-3"),
    ("FFmpeg shipped with Qt Multimedia (PySide6/Qt/lib/libav*, libsw*)", "LGPL-2.1-or-later", "LGPL-2.1"),
    ("FFmpeg shipped with PyAV, built with x264 (av.libs)", "GPL-2.0-or-later", "GPL-2"),
    ("libraries shipped with Pillow (pillow.libs)", "their own licences (IJG, libtiff, FreeType, lcms2, ...)", None),
]
COMMON_LICENSES = Path("/usr/share/common-licenses")


def runtime_distributions(roots: tuple[str, ...] = ("pixdesk", "pyinstaller")) -> list[metadata.Distribution]:
    """`roots` and everything they need at run time, without extras, in a stable order.

    PyInstaller is there for its bootloader and run-time hooks, which are part of the bundle; what it
    needs itself is not, so only pixdesk's requirements are followed.
    """
    seen: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[key] = dist
        if key == "pyinstaller":
            continue  # its bootloader is in the bundle, not what it needs to build one
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return sorted(seen.values(), key=lambda d: d.metadata["Name"].lower())


def declared_license(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    text = meta.get("License-Expression") or meta.get("License") or ""
    if not text or len(text) > 80:
        classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        text = ", ".join(classifiers) or "see the files"
    return text.strip()


def main(dest: Path) -> int:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    lines = [
        "Third-party software in this PixDesk bundle. Each component keeps its own licence;",
        "the texts are in the folders beside this file.",
        "",
    ]
    for dist in runtime_distributions():
        name, version = dist.metadata["Name"], dist.version
        if name.lower() == "pixdesk":
            continue
        folder = dest / f"{name}-{version}"
        for file in dist.files or []:
            if ".dist-info/" in str(file) and LICENSE_NAME.search(str(file)) and file.suffix not in {".py", ".pyc"}:
                target = folder / Path(str(file)).name
                folder.mkdir(exist_ok=True)
                shutil.copyfile(Path(str(dist.locate_file(file))), target)
        note = (
            " (its bootloader: the pixdesk executable; GPL with the Bootloader exception)"
            if name.lower() == "pyinstaller"
            else ""
        )
        lines.append(f"{name} {version}: {declared_license(dist)}{note}")
    python_license = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    if python_license.exists():
        (dest / "Python").mkdir()
        shutil.copyfile(python_license, dest / "Python" / "LICENSE.txt")
    lines.append(f"Python {sys.version.split()[0]}: PSF-2.0")
    gnu = dest / "GNU"
    for what, spdx, text in NATIVE:
        lines.append(f"{what}: {spdx}")
        if text and (COMMON_LICENSES / text).exists():
            gnu.mkdir(exist_ok=True)
            shutil.copyfile(COMMON_LICENSES / text, gnu / text)
            if text.startswith("LGPL-3"):  # the LGPL-3 is a set of permissions on top of the GPL-3
                shutil.copyfile(COMMON_LICENSES / "GPL-3", gnu / "GPL-3")
    (dest / "README.txt").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
