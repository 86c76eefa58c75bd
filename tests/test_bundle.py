"""The installable bundle: build it, run it from elsewhere, check the .deb and the tarball.

Slow (a PyInstaller build): skipped unless PIXDESK_TEST_BUNDLE=1, which `.ci/run` sets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import av
import pytest

from pixdesk import __version__
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
pytestmark = [
    pytest.mark.bundle,
    pytest.mark.timeout(1800),  # the first test also pays for the PyInstaller build
    pytest.mark.skipif(os.environ.get("PIXDESK_TEST_BUNDLE") != "1", reason="set PIXDESK_TEST_BUNDLE=1 to build"),
]


@pytest.fixture(scope="module")
def built() -> Path:
    subprocess.run(
        ["bash", "packaging/build.sh"], cwd=ROOT, check=True, timeout=1500, env={**os.environ, "PY": sys.executable}
    )
    assert (DIST / "pixdesk" / "pixdesk").exists()
    return DIST


def run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
    )


def test_frozen_app_runs_from_another_folder(built: Path, tmp_path: Path):
    elsewhere = tmp_path / "Program Files" / "pixdesk"
    shutil.copytree(built / "pixdesk", elsewhere, symlinks=True)
    exe = str(elsewhere / "pixdesk")
    version = run([exe, "--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"pixdesk {__version__}"
    out = tmp_path / "frozen.mp4"
    result = run(
        [
            exe,
            "generate",
            "--demo",
            str(SAMPLES / "portrait.png"),
            "--prompt",
            "Frozen hello",
            "--resolution",
            "360p",
            "--lip-sync-text",
            "Hello",
            "--out",
            str(out),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "h264" and len(container.streams.audio) == 1
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 120  # playable: every frame decodes
    shown = run([exe, "--demo"], tmp_path, PIXDESK_EXIT_WHEN_SHOWN="1", QT_DEBUG_PLUGINS="1")
    assert shown.returncode == 0 and "window shown" in shown.stdout
    assert "No QtMultimedia backends found" not in shown.stderr  # the player works in the bundle


def test_deb_has_launcher_desktop_entry_icons_and_metainfo(built: Path, tmp_path: Path):
    (deb,) = built.glob("pixdesk_*.deb")
    listing = run(["dpkg-deb", "-c", str(deb)], tmp_path).stdout
    for path in (
        "./usr/bin/pixdesk",
        "./opt/pixdesk/pixdesk",
        "./usr/share/applications/pixdesk.desktop",
        "./usr/share/icons/hicolor/256x256/apps/pixdesk.png",
        "./usr/share/icons/hicolor/scalable/apps/pixdesk.svg",
        "./usr/share/metainfo/io.pixdesk.PixDesk.metainfo.xml",
    ):
        assert f" {path}\n" in listing + "\n" or path in listing, path
    depends = run(["dpkg-deb", "-f", str(deb), "Depends"], tmp_path).stdout
    assert "libpulse0" in depends and "libc6 (>= 2." in depends  # Qt Multimedia's sound, glibc's symbols
    assert "libxcb-cursor0" not in depends  # the bundle ships libxcb-cursor.so.0 itself
    assert run(["dpkg-deb", "-f", str(deb), "Homepage"], tmp_path).stdout.strip().startswith("https://")
    for path in ("./usr/share/doc/pixdesk/copyright", "./usr/share/doc/pixdesk/changelog.Debian.gz"):
        assert path in listing, path
    for line in listing.splitlines():  # files 0644, programs 0755: shared libraries have no x bit
        mode, *_, path = line.split()
        if mode.startswith("-") and re.search(r"\.so(\.|$)", path):
            assert mode == "-rw-r--r--", line
    run(["dpkg-deb", "-x", str(deb), str(tmp_path / "root")], tmp_path)
    desktop = (tmp_path / "root/usr/share/applications/pixdesk.desktop").read_text()
    assert "Exec=pixdesk" in desktop and "Icon=pixdesk" in desktop and "Type=Application" in desktop
    launcher = tmp_path / "root/usr/bin/pixdesk"
    assert os.access(launcher, os.X_OK) and "/opt/pixdesk/pixdesk" in launcher.read_text()
    metainfo = (tmp_path / "root/usr/share/metainfo/io.pixdesk.PixDesk.metainfo.xml").read_text()
    assert f'version="{__version__}"' in metainfo


def test_deb_passes_lintian(built: Path, tmp_path: Path):
    if shutil.which("lintian") is None:
        pytest.skip("lintian is not installed (.ci/run installs it through EXTRA_DEBS)")
    (deb,) = built.glob("pixdesk_*.deb")
    result = subprocess.run(["lintian", str(deb)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    errors = [line for line in result.stdout.splitlines() if line.startswith("E:")]
    assert errors == [], result.stdout  # what a PyInstaller bundle cannot avoid is in linux/lintian-overrides


def test_tarball_installs_for_the_user(built: Path, tmp_path: Path):
    (tarball,) = built.glob("pixdesk-*-linux-*.tar.gz")
    shutil.unpack_archive(tarball, tmp_path)
    (folder,) = tmp_path.glob("pixdesk-*")
    home = tmp_path / "home"
    result = run(["sh", str(folder / "install.sh")], tmp_path, HOME=str(home), XDG_DATA_HOME=str(home / "share"))
    assert result.returncode == 0, result.stderr
    assert (home / "share/applications/pixdesk.desktop").exists()
    assert (home / "share/icons/hicolor/128x128/apps/pixdesk.png").exists()
    version = run([str(home / ".local/bin/pixdesk"), "--version"], tmp_path)
    assert version.stdout.strip() == f"pixdesk {__version__}"


def test_pip_install_gives_a_working_command(tmp_path: Path):
    wheel_dir = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(ROOT)],
        check=True,
        timeout=600,
    )
    (wheel,) = wheel_dir.glob("pixdesk-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=600,
    )
    assert (target / "pixdesk/resources/samples/portrait.png").exists()
    assert (target / "pixdesk/resources/icons/pixdesk-256.png").exists()
    entry = (next(target.glob("pixdesk-*.dist-info")) / "entry_points.txt").read_text()
    assert "pixdesk = pixdesk.launch:console_main" in entry  # the window's quick path; commands go to pixdesk.cli
    env = {"PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}
    where = run([sys.executable, "-c", "import pixdesk; print(pixdesk.__file__)"], tmp_path, **env)
    assert where.stdout.strip().startswith(str(target))  # the installed wheel, not this checkout
    result = run(
        [
            sys.executable,
            "-c",
            "import sys; from pixdesk.launch import console_main; sys.argv=['pixdesk','--version']; console_main()",
        ],
        tmp_path,
        **env,
    )
    assert result.stdout.strip() == f"pixdesk {__version__}", result.stderr
    out = tmp_path / "pip.mp4"
    result = run(
        [
            sys.executable,
            "-m",
            "pixdesk",
            "generate",
            "--demo",
            str(target / "pixdesk/resources/samples/robot-transparent.png"),
            "--prompt",
            "pip",
            "--resolution",
            "360p",
            "--out",
            str(out),
        ],
        tmp_path,
        **env,
    )
    assert result.returncode == 0 and out.stat().st_size > 0, result.stderr
