"""The `pixdesk` command's entry point: open the window at once, or hand the command line to `pixdesk.cli`.

Opening the window is what most launches do (the desktop entry, `pixdesk photo.png`), so that path imports only
what the window needs: not argparse, asyncio or the API client, which `pixdesk.cli` imports for its commands.
Everything else (a sub-command, `--help`, `--version`, an unknown option) goes through `pixdesk.cli.main`, which
gives the same answers and errors as always.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Sequence
from urllib.parse import unquote, urlsplit

# The sub-commands' names, for telling `pixdesk jobs` from `pixdesk photo.png` before building the whole parser
# (tests/test_startup.py checks them against `pixdesk.cli.build_parser().commands`).
COMMANDS = ("generate", "lipsync", "storyboard", "price", "simulator", "jobs", "resume", "resend", "spend")
WINDOW_OPTIONS = frozenset({"--demo"})  # the options the window's own path understands; others go to the parser

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def split_gui_arguments(argv: Sequence[str], commands: Collection[str]) -> tuple[list[str], list[str]] | None:
    """`pixdesk [--demo] [IMAGE ...]`: (its options, its image arguments); None when argv runs a command.

    A first argument (not an option) that names a command is that command; anything else opens the window with
    images. After `--` everything is an image (a file called `jobs`: `pixdesk -- jobs`, or `pixdesk ./jobs`)."""
    options: list[str] = []
    images: list[str] = []
    only_images = False
    for arg in argv:
        if only_images:
            images.append(arg)
        elif arg == "--":
            only_images = True
        elif arg.startswith("-") and arg != "-":
            options.append(arg)
        elif not images and arg in commands:
            return None
        else:
            images.append(arg)
    return options, images


def image_path(arg: str, cwd: str | None = None) -> str:
    """An image from the command line as an absolute path: a `file://` URI (some file managers pass those) is
    decoded; a relative path is taken from `cwd` (default: this process's folder, not the running window's).
    Raises ValueError for any other URI."""
    if arg[:5].lower() == "file:":
        parts = urlsplit(arg)
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"not a file on this computer: {arg}")
        arg = _url2pathname(parts.path)
    elif _SCHEME.match(arg):
        raise ValueError(f"only local files can be opened this way: {arg}")
    return os.path.abspath(os.path.join(cwd or os.getcwd(), os.path.expanduser(arg)))


def _url2pathname(path: str) -> str:
    """urllib.request's url2pathname, without importing urllib.request (and http.client) for it on POSIX."""
    if os.name == "nt":
        from urllib.request import url2pathname

        return url2pathname(path)
    return unquote(path)


def gui_images(args: Sequence[str]) -> list[str]:
    """The images (or folders of images) to open, as absolute paths; what cannot be opened gets one line on
    stderr and is skipped."""
    paths: list[str] = []
    for arg in args:
        try:
            path = image_path(arg)
        except ValueError as exc:
            print(f"pixdesk: skipped: {exc}", file=sys.stderr)
            continue
        if not os.path.isfile(path) and not os.path.isdir(path):  # a folder: its images, as when dropped
            why = "not a file" if os.path.exists(path) else "no such file"
            print(f"pixdesk: skipped: {why}: {path}", file=sys.stderr)
            continue
        paths.append(path)
    return paths


def open_window(demo: bool, images: Sequence[str]) -> int:
    """The window (with `images` loaded), logging to the data folder; returns the exit code once it closes."""
    from pixdesk.logs import setup_logging

    setup_logging()
    import_before_qt()
    from pixdesk.ui.app import run_gui

    return run_gui(demo=demo, images=gui_images(images))


def import_before_qt() -> None:
    """Import the Qt-free modules the window's first frame needs, before PySide6. Once PySide6.QtCore is loaded,
    its `__feature__` import hook reads the source of every module imported after it (looking for the word
    "PySide6"), which makes each later import about half as slow again. tests/test_startup.py checks that no
    Qt-free PixDesk module loaded by the first frame came after PySide6."""
    import concurrent.futures  # noqa: F401  (pixdesk.ui.tasks' pools)
    import hashlib  # noqa: F401  (the single-instance name)
    import shutil  # noqa: F401
    import uuid  # noqa: F401

    import pixdesk.api.request
    import pixdesk.crash
    import pixdesk.jobs.batch
    import pixdesk.jobs.library
    import pixdesk.jobs.spend
    import pixdesk.jobs.states
    import pixdesk.runtime
    import pixdesk.ui.form_memory  # noqa: F401  (Qt-free, though under pixdesk.ui)
    from pixdesk.resources_path import resources_dir

    resources_dir()  # imports pixdesk.resources (where the window's icon is)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    window = split_gui_arguments(args, COMMANDS)
    if window is not None and set(window[0]) <= WINDOW_OPTIONS:
        return open_window("--demo" in window[0], window[1])
    from pixdesk.cli import main as cli_main

    return cli_main(args)


def console_main() -> None:
    """The `pixdesk` command: after the window, `end_process` may end the process at once."""
    code = main()
    gui = sys.modules.get("pixdesk.ui.app")
    if gui is not None:
        gui.end_process(code)
    sys.exit(code)
