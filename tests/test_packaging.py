"""Packaging files that need no bundle build: the desktop entry, the AppStream metainfo, pyproject's package
layout and the per-user install.sh (run against a fake bundle). Fast; the validators are skipped when
their tools are not installed (CI installs them through EXTRA_DEBS in .ci/run)."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import stat
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pixdesk import __version__

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
DESKTOP = RESOURCES / "pixdesk.desktop"
METAINFO = RESOURCES / "io.pixdesk.PixDesk.metainfo.xml"
INSTALL_SH = ROOT / "packaging" / "linux" / "install.sh"
BUILD_SH = ROOT / "packaging" / "build.sh"
# The freedesktop menu specification's main categories. Audio and Video need AudioVideo beside them and
# then add no menu of their own (desktop-file-validate does not count them as a second main category).
MAIN_CATEGORIES = {
    "AudioVideo",
    "Audio",
    "Video",
    "Development",
    "Education",
    "Game",
    "Graphics",
    "Network",
    "Office",
    "Science",
    "Settings",
    "System",
    "Utility",
}
PART_OF = {"Audio": "AudioVideo", "Video": "AudioVideo"}
CACHE_TOOLS = ("update-desktop-database", "update-mime-database", "gtk-update-icon-cache")


def desktop_entry() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def metainfo_text() -> str:
    return METAINFO.read_text(encoding="utf-8").replace("@VERSION@", __version__)  # as build.sh does


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]


# -- desktop entry ---------------------------------------------------------------------------------------------
def test_desktop_entry_has_exactly_one_main_category():
    entry = desktop_entry()
    categories = [c for c in entry["Categories"].split(";") if c]
    main = [c for c in categories if c in MAIN_CATEGORIES and PART_OF.get(c) not in categories]
    assert main == ["AudioVideo"], categories
    for category in categories:  # Audio/Video only with AudioVideo, which the spec requires
        assert PART_OF.get(category, "AudioVideo") in categories
    assert entry["Exec"] == "pixdesk %F"
    assert entry["Icon"] == "pixdesk" and entry["Type"] == "Application"
    assert {"image/png", "image/jpeg", "image/webp"} <= set(entry["MimeType"].split(";"))


def test_desktop_entry_passes_desktop_file_validate():
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate is not installed (Debian package desktop-file-utils)")
    result = run([tool, str(DESKTOP)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert (result.stdout + result.stderr).strip() == ""  # no error, warning or hint


# -- AppStream metainfo ----------------------------------------------------------------------------------------
def test_metainfo_has_screenshots_homepage_developer_and_this_release():
    component = ET.fromstring(metainfo_text())
    assert component.get("type") == "desktop-application"
    assert component.findtext("id") == "io.pixdesk.PixDesk"
    homepage = component.findtext("url[@type='homepage']")
    assert homepage and homepage.startswith("https://")
    deb_homepage = re.search(r"^HOMEPAGE=(\S+)$", BUILD_SH.read_text(), re.MULTILINE)
    assert deb_homepage and deb_homepage.group(1) == homepage  # the .deb's Homepage field is the same
    developer = component.find("developer")
    assert developer is not None and developer.get("id") and (developer.findtext("name") or "").strip()
    screenshots = component.findall("screenshots/screenshot")
    assert screenshots and sum(s.get("type") == "default" for s in screenshots) == 1
    for shot in screenshots:
        assert (shot.findtext("caption") or "").strip()
        url = shot.findtext("image") or ""
        assert url.startswith("https://"), url
        assert (ROOT / "docs" / url.split("/docs/", 1)[1]).is_file(), url  # one of the README's screenshots
    release = component.find("releases/release")
    assert release is not None and release.get("version") == __version__
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", release.get("date") or "")
    assert (release.findtext("description/p") or "").strip()
    assert component.findtext("launchable[@type='desktop-id']") == DESKTOP.name
    assert component.findtext("provides/binary") == "pixdesk"
    assert component.find("content_rating") is not None


def test_metainfo_passes_appstreamcli_validate(tmp_path: Path):
    tool = shutil.which("appstreamcli")
    if tool is None:
        pytest.skip("appstreamcli is not installed (Debian package appstream)")
    copy = tmp_path / METAINFO.name
    copy.write_text(metainfo_text(), encoding="utf-8")
    result = run([tool, "validate", "--no-net", "--explain", str(copy)])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"^[EW]: ", output, re.MULTILINE), output  # infos and pedantic notes are fine


# -- pyproject: resources ship as packages, with an SPDX licence ----------------------------------------------
def test_pyproject_declares_every_resource_folder_as_a_package_with_its_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["license"] == "MIT"  # an SPDX string, not the deprecated table
    (minimum,) = [m for r in config["build-system"]["requires"] if (m := re.match(r"setuptools>=(\d+)", r))]
    assert int(minimum.group(1)) >= 77  # the first setuptools that takes an SPDX `license`
    tool = config["tool"]["setuptools"]
    assert tool["package-dir"]["pixdesk.resources"] == "resources"
    for folder in (p for p in RESOURCES.iterdir() if p.is_dir() and p.name != "__pycache__"):
        package = f"pixdesk.resources.{folder.name}"
        assert package in tool["packages"], package
        patterns = tool["package-data"][package]
        for file in folder.iterdir():
            assert any(file.match(p) for p in patterns), file


# -- install.sh against a fake bundle ---------------------------------------------------------------------------
def fake_bundle(tmp_path: Path) -> Path:
    """The layout of the .tar.gz that build.sh makes: install.sh, pixdesk/ (the app), share/ (as /usr/share)."""
    top = tmp_path / f"pixdesk-{__version__}"
    app = top / "pixdesk"
    (app / "_internal").mkdir(parents=True)
    (app / "_internal" / "base_library.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    exe = app / "pixdesk"
    exe.write_text(f'#!/bin/sh\necho "pixdesk {__version__}"\n')
    exe.chmod(0o755)
    share = top / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy(DESKTOP, share / "applications" / "pixdesk.desktop")
    (share / "metainfo").mkdir()
    (share / "metainfo" / METAINFO.name).write_text(metainfo_text(), encoding="utf-8")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy(RESOURCES / "icons" / "pixdesk.svg", scalable / "pixdesk.svg")
    for size in (16, 256):
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy(RESOURCES / "icons" / f"pixdesk-{size}.png", folder / "pixdesk.png")
    shutil.copy(INSTALL_SH, top / "install.sh")
    return top


def tool_dir(tmp_path: Path, log: Path, *, cache_tools: bool, exit_code: int = 0) -> Path:
    """A PATH with only what install.sh may use: coreutils, and stubs of the cache tools that log their calls."""
    bin_dir = tmp_path / ("bin-with-tools" if cache_tools else "bin-without-tools")
    bin_dir.mkdir()
    for name in ("sh", "cp", "sed", "find", "ln", "rm", "mkdir", "dirname"):
        real = shutil.which(name)
        assert real, name
        (bin_dir / name).symlink_to(real)
    if cache_tools:
        for name in CACHE_TOOLS:
            stub = bin_dir / name
            stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexit {exit_code}\n')
            stub.chmod(0o755)
    return bin_dir


def run_install(bundle: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run([env["SH"], str(bundle / "install.sh"), *args], env=env)


def installed_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*") if p.is_file() or p.is_symlink())


@pytest.mark.parametrize("tool_exit", [0, 1], ids=["tools-succeed", "tools-fail"])
def test_install_sh_installs_refreshes_caches_and_uninstalls_everything(tmp_path: Path, tool_exit: int):
    bundle = fake_bundle(tmp_path)
    prefix, data, log = tmp_path / "prefix", tmp_path / "data", tmp_path / "calls.log"
    (data / "mime").mkdir(parents=True)  # the user already has a MIME database to refresh
    bin_dir = tool_dir(tmp_path, log, cache_tools=True, exit_code=tool_exit)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path / "home"), "PREFIX": str(prefix), "XDG_DATA_HOME": str(data)}
    env["SH"] = str(bin_dir / "sh")

    result = run_install(bundle, env)
    assert result.returncode == 0, result.stderr
    launcher = prefix / "bin" / "pixdesk"
    assert os.access(launcher, os.X_OK)
    assert run([str(launcher), "--version"]).stdout.strip() == f"pixdesk {__version__}"
    assert (prefix / "opt" / "pixdesk" / "_internal" / "base_library.zip").is_file()
    desktop = (data / "applications" / "pixdesk.desktop").read_text()
    assert f"Exec={prefix}/bin/pixdesk %F" in desktop.splitlines()
    assert (data / "metainfo" / METAINFO.name).read_text() == metainfo_text()
    assert (data / "icons/hicolor/scalable/apps/pixdesk.svg").is_file()
    assert (data / "icons/hicolor/256x256/apps/pixdesk.png").is_file()
    refreshes = [
        f"update-desktop-database -q {data}/applications",
        f"update-mime-database {data}/mime",
        f"gtk-update-icon-cache -q -f -t {data}/icons/hicolor",
    ]
    assert log.read_text().splitlines() == refreshes

    result = run_install(bundle, env, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert installed_files(prefix, data) == []  # launcher, app, desktop entry, metainfo and icons all gone
    assert log.read_text().splitlines() == refreshes * 2  # uninstall refreshes the same caches


def test_install_sh_works_without_the_cache_tools(tmp_path: Path):
    bundle = fake_bundle(tmp_path)
    prefix, data = tmp_path / "prefix", tmp_path / "data"
    bin_dir = tool_dir(tmp_path, tmp_path / "unused.log", cache_tools=False)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path / "home"), "PREFIX": str(prefix), "XDG_DATA_HOME": str(data)}
    env["SH"] = str(bin_dir / "sh")
    result = run_install(bundle, env)
    assert result.returncode == 0, result.stderr
    assert (data / "applications" / "pixdesk.desktop").is_file() and (data / "metainfo" / METAINFO.name).is_file()
    assert not (data / "mime").exists()  # nothing made up where the user had no MIME database
    result = run_install(bundle, env, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert installed_files(prefix, data) == []


def test_install_sh_is_executable_posix_sh():
    assert INSTALL_SH.stat().st_mode & stat.S_IXUSR
    dash = shutil.which("dash") or shutil.which("sh")
    assert dash and run([dash, "-n", str(INSTALL_SH)]).returncode == 0
