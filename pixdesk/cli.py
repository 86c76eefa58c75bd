"""The `pixdesk` command: the GUI by default, sub-commands for headless use.

Exit codes: 0 done · 2 bad input · 3 the API refused (auth, credits, validation, generation error)
· 4 network or timeout (including a job whose outcome is unknown). A `generate` of several jobs ends with the most
serious of its jobs' codes, 4 over 3 over 2 (0 only when every clip was written); 130 when interrupted (Ctrl+C).

`pixdesk` with no command opens the window: that path imports neither the job machinery nor image decoding
(the headless commands import what they use), so the window's own start-up decides what loads first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pixdesk import __version__
from pixdesk.api.catalogue import (
    DEFAULT_MODEL,
    FORM_MODELS,
    LIP_SYNC_MAX,
    MODELS,
    PIXVERSE_LIP_SYNC,
    SPEAKERS,
    STYLES,
    THINKING_TYPES,
    ModelSpec,
)
from pixdesk.api.errors import EXIT_CODES, EXIT_OK, ErrorKind, exit_code_for_kind
from pixdesk.api.request import FieldError, GenerationRequest
from pixdesk.api.text import clean_text
from pixdesk.config import load_settings
from pixdesk.launch import COMMANDS, open_window, split_gui_arguments

if TYPE_CHECKING:
    from pixdesk.cli_progress import JobLines
    from pixdesk.jobs.models import Job

# A CLI run looks for a lost create in the usage logs at most this long; `resume` (or the window) goes on.
LOOKUP_WAIT = 120.0
EXIT_INPUT, EXIT_REFUSED, EXIT_NETWORK = (EXIT_CODES[k] for k in (ErrorKind.INPUT, ErrorKind.API, ErrorKind.NETWORK))


class _Parser(argparse.ArgumentParser):
    commands: tuple[str, ...] = ()  # the sub-commands' names (a first argument that is not one is an image)

    def error(self, message: str) -> Any:  # exit 2 with a one-line reason, like every bad input
        self.exit(EXIT_INPUT, f"pixdesk: error: {message}\n")


GENERATE_EPILOG = """\
Several IMAGEs and/or --variations N make one job per image and seed, sent as one group, at most K of them at
the server at once (--max-in-flight, else Settings). Every image is checked before anything is sent. --out is then
an existing folder, and each clip is named from the prompt, the image and the seed.

exit codes (with several jobs, the most serious outcome of any of them wins, in this order):
  4    a job's outcome is unknown (`pixdesk resume` keeps looking), a network problem, or --timeout ran out
       (the jobs the server has go on there: `pixdesk resume` fetches them and never sends them again)
  3    the API refused a job: key, credits, validation, a failed generation. After a refused key or an empty
       account nothing more is sent: jobs not sent yet end at once (never sent, never charged); jobs the server
       has are watched to their end, or stall at once when refused too (`pixdesk resume` finishes them)
  2    bad input (nothing is sent), or a clip that could not be written
  0    every job completed and its clip was written
  130  interrupted (Ctrl+C): jobs not sent yet are not sent; jobs the server has stay saved for `pixdesk resume`
"""

LIPSYNC_EPILOG = """\
CLIP is sent as it is when it is an https:// URL, as a checked data URI when it is a file (MP4, MOV or WebM), or,
given the id of a finished job (`pixdesk jobs`), as that job's saved clip. Exactly one of --line (spoken in
--voice) or --audio-file (WAV, MP3 or M4A). The clip and the recording are checked before anything is sent.

exit codes: as `pixdesk generate` (0 written · 2 bad input · 3 refused by the API · 4 network, unknown or
--timeout · 130 interrupted)
"""

# How each request field is named on the command line, so a refusal names the option to change.
GENERATE_OPTION_NAMES: dict[str, str] = {
    "model": "--model",
    "image_url": "IMAGE",
    "tail_image_url": "--last-frame",
    "prompt": "--prompt",
    "negative_prompt": "--negative-prompt",
    "resolution": "--resolution",
    "duration": "--duration",
    "style": "--style",
    "seed": "--seed",
    "lip_sync_tts_content": "--lip-sync-text",
    "lip_sync_tts_speaker": "--speaker",
    "aspect_ratio": "--aspect-ratio",
    "generate_audio_switch": "--audio",
    "generate_multi_clip_switch": "--multi-clip",
    "thinking_type": "--thinking",
}
LIPSYNC_OPTION_NAMES: dict[str, str] = {
    **GENERATE_OPTION_NAMES,
    "video_url": "CLIP",
    "audio_url": "--audio-file",
    "lip_sync_tts_content": "--line",
    "lip_sync_tts_speaker": "--voice",
}
PRICE_OPTION_NAMES: dict[str, str] = {"model": "--model", "resolution": "--resolution", "duration": "--duration"}


def choices_of(name: str, models: Iterable[str]) -> list[Any]:
    """Every value any of `models` allows for `name`, in the catalogue's order: argparse offers them all, and
    `GenerationRequest.validate` then says which the chosen model lacks (10 s is v5.5's only)."""
    values: dict[Any, None] = {}
    for model in models:
        spec = MODELS[model]
        if spec.has(name):
            values.update(dict.fromkeys(spec.param(name).choices))
    return sorted(values) if all(isinstance(v, int) for v in values) else list(values)


def refusal(errors: list[FieldError], names: Mapping[str, str]) -> str:
    """The first problem as one line that names the option to change (`--last-frame: Choose the picture ...`)."""
    first = errors[0]
    option = names.get(first.field)
    return f"{option}: {first.message}" if option else first.message


# The options that tell the models apart, as `generate --help` lists them under each model.
_MODEL_OPTIONS = (
    "tail_image_url",
    "aspect_ratio",
    "generate_audio_switch",
    "generate_multi_clip_switch",
    "thinking_type",
    "lip_sync_tts_content",
)


def models_help(models: Iterable[str]) -> str:
    """`generate --help`'s list of models, from the catalogue: what each is for and what sets it apart."""
    lines = ["models (--model; each takes only its own options, anything else is refused before a request is sent):"]
    for model in models:
        spec = MODELS[model]
        takes = ["IMAGE" if spec.has("image_url") else "no IMAGE"]
        takes += [GENERATE_OPTION_NAMES[p.name] for p in spec.params if p.name in _MODEL_OPTIONS]
        seconds = "/".join(str(c) for c in spec.param("duration").choices) if spec.has("duration") else ""
        default = " (default)" if spec is DEFAULT_MODEL else ""
        lines.append(f"  {model}{default}: {spec.summary}")
        lines.append(f"      {', '.join(takes)}" + (f"; {seconds} s" if seconds else ""))
    lines.append("To make the character of a finished clip speak: `pixdesk lipsync`.")
    return "\n".join(lines) + "\n\n"


def _top_parser() -> _Parser:
    """The options before any command: all that opening the window needs."""
    parser = _Parser(
        prog="pixdesk",
        description="Turn a still image into a short video (pixverse/v5), or make one from a first and a last "
        "picture, from words alone, or make a finished clip speak. With no COMMAND, open the window with "
        "the IMAGE files (paths or file:// URIs) loaded; when PixDesk is already running, its window takes them.",
    )
    parser.add_argument("--version", action="version", version=f"pixdesk {__version__}")
    parser.add_argument("--demo", action="store_true", help="use the built-in simulator instead of the API")
    return parser


def _add_run_options(cmd: argparse.ArgumentParser, *, what: str) -> None:
    """What every command that runs jobs to a clip takes (generate, lipsync): where the answer goes and the
    limits on money and time."""
    cmd.add_argument("--demo", action="store_true", dest="sub_demo", help="use the built-in simulator")
    cmd.add_argument(
        "--json",
        action="store_true",
        help=f"print a JSON summary instead of the path ({what})",
    )
    cmd.add_argument(
        "--lookup-wait",
        type=float,
        default=LOOKUP_WAIT,
        metavar="S",
        help="when a create's answer is lost, look for it in the usage logs this long (default 120 s), then exit 4",
    )
    cmd.add_argument(
        "--max-usd",
        type=float,
        metavar="X",
        help="refuse (exit 2, before anything is sent) when the estimated cost is over X USD or no price is known",
    )
    cmd.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="stop waiting after S seconds (exit 4): what the server has goes on there and `pixdesk resume` "
        "fetches it, never sending it again; what was not sent yet is not sent",
    )


def _add_generate(sub: Any) -> None:
    from pixdesk.jobs.batch import MAX_VARIATIONS

    gen = sub.add_parser(
        "generate",
        help="run jobs headless and save the videos (any model of the family: --model)",
        epilog=models_help(FORM_MODELS) + GENERATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gen.add_argument(
        "image",
        nargs="*",
        metavar="IMAGE",
        help="JPEG/PNG/WebP/... files, or https:// URLs: each makes N jobs (none for text-to-video)",
    )
    _add_model_option(gen, FORM_MODELS)
    gen.add_argument("--prompt", required=True, help="what should happen in the video")
    gen.add_argument("--negative-prompt", help="what the video should avoid")
    gen.add_argument(
        "--last-frame",
        metavar="IMAGE",
        help="the picture the clip ends on (pixverse/v5/transition, which needs it)",
    )
    gen.add_argument(
        "--aspect-ratio",
        choices=choices_of("aspect_ratio", FORM_MODELS),
        metavar="R",
        help=f"the frame's shape for text-to-video: {', '.join(choices_of('aspect_ratio', FORM_MODELS))}",
    )
    gen.add_argument("--resolution", choices=choices_of("resolution", FORM_MODELS), help="the short side of the frame")
    gen.add_argument(
        "--duration",
        type=int,
        choices=choices_of("duration", FORM_MODELS),
        help="seconds (10: v5.5 only; 1080p: 5 only)",
    )
    gen.add_argument("--style", choices=list(STYLES))
    gen.add_argument("--seed", type=int, help="with --variations N: the seeds S, S+1, … S+N-1")
    gen.add_argument(
        "--audio",
        action="store_const",
        const=True,
        help="v5.5: add a sound track made for the scene (music, ambience, effects)",
    )
    gen.add_argument(
        "--multi-clip",
        action="store_const",
        const=True,
        help="v5.5: cut between several shots instead of one continuous shot",
    )
    gen.add_argument(
        "--thinking",
        choices=list(THINKING_TYPES),
        help="v5.5: let the model rewrite the prompt first (enabled: the default; auto: the model decides)",
    )
    gen.add_argument(
        "--variations",
        type=int,
        default=1,
        metavar="N",
        help=f"N jobs per image with distinct seeds (1 to {MAX_VARIATIONS}; random ones without --seed)",
    )
    gen.add_argument(
        "--max-in-flight",
        type=int,
        metavar="K",
        help="at most K jobs at the server at once for this run (default: the limit in Settings)",
    )
    gen.add_argument("--lip-sync-text", help="v5: a line the character speaks (image-to-video and transition)")
    gen.add_argument(
        "--speaker", choices=list(SPEAKERS), metavar="NAME", help=f"voice for --lip-sync-text: {', '.join(SPEAKERS)}"
    )
    gen.add_argument(
        "--out",
        help="where to write the MP4 (default: a name from the prompt, here); with several jobs, an existing folder",
    )
    _add_run_options(gen, what='several jobs: {"jobs": [...]}, one object each')


def _add_lipsync(sub: Any) -> None:
    lip = sub.add_parser(
        "lipsync",
        help="make the character in a finished clip speak (pixverse/lip-sync)",
        epilog=LIPSYNC_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lip.add_argument("clip", metavar="CLIP", help="a video file, an https:// URL, or the id of a finished job")
    how = lip.add_mutually_exclusive_group(required=True)
    how.add_argument("--line", metavar="TEXT", help=f"what the character says (up to {LIP_SYNC_MAX} characters)")
    how.add_argument("--audio-file", metavar="FILE", help="a recording to lip-sync to instead (WAV, MP3 or M4A)")
    lip.add_argument(
        "--voice",
        choices=list(SPEAKERS),
        metavar="V",
        help=f"the voice of --line (default Auto): {', '.join(SPEAKERS)}",
    )
    lip.add_argument("--out", required=True, metavar="FILE", help="where to write the MP4 (or an existing folder)")
    _add_run_options(lip, what="an object")


def _add_model_option(parser: Any, models: Iterable[str]) -> None:
    """`--model M`: one of `models`, the default model when not given."""
    names = list(models)
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL.model_id,
        choices=names,
        metavar="M",
        help=f"the model (default {DEFAULT_MODEL.model_id}): {', '.join(names)}",
    )


def _add_price(sub: Any) -> None:
    from pixdesk.jobs.batch import MAX_VARIATIONS

    price = sub.add_parser("price", help="what a job would cost, from the API's live price list")
    _add_model_option(price, MODELS)
    price.add_argument("--resolution", choices=choices_of("resolution", MODELS))
    price.add_argument("--duration", type=int, choices=choices_of("duration", MODELS), help="seconds")
    price.add_argument(
        "--variations",
        type=int,
        default=1,
        metavar="N",
        help=f"jobs per image, as `generate --variations` (1 to {MAX_VARIATIONS}, default 1)",
    )
    price.add_argument(
        "--images", type=int, default=1, metavar="M", help="how many images the set has (default 1): M × N jobs"
    )
    price.add_argument("--demo", action="store_true", dest="sub_demo", help="the built-in simulator's prices")
    price.add_argument("--json", action="store_true", help='print {"usd", "credits", "source"}')


def _add_simulator(sub: Any) -> None:
    sim = sub.add_parser("simulator", help="serve the API simulator alone")
    sim.add_argument("--port", type=int, default=0)
    sim.add_argument("--queue-seconds", type=float, default=2.0)
    sim.add_argument("--generate-seconds", type=float, default=6.0)
    sim.add_argument("--api-key", help="accept only this key (default: any non-empty key)")
    sim.add_argument(
        "--durations",
        metavar="SPEC",
        help="draw each job's time from a distribution instead of the fixed seconds: typical, wide, bimodal, "
        "demo, fixed:S, lognormal:MEDIAN:SIGMA (the metrics then describe it from the start)",
    )
    sim.add_argument("--timing-seed", type=int, help="repeatable draws for --durations")


def _add_books(sub: Any) -> None:
    """The commands about saved jobs: list, resume, resend, spend."""
    jobs = sub.add_parser("jobs", help="list saved jobs, newest first")
    jobs.add_argument("--json", action="store_true")
    jobs.add_argument("--limit", type=int, default=50)

    resume = sub.add_parser("resume", help="finish unfinished jobs headless (and look up unknown ones)")
    resume.add_argument("--lookup-wait", type=float, default=LOOKUP_WAIT, metavar="S")

    resend = sub.add_parser("resend", help="send again a job the usage logs show was never created")
    resend.add_argument("job", help="its id (`pixdesk jobs` shows it), or its client request id")
    resend.add_argument("--out", help="where to write the MP4")
    resend.add_argument("--json", action="store_true")

    spend = sub.add_parser("spend", help="what live jobs cost: today, this month, and per job")
    spend.add_argument("--json", action="store_true")
    spend.add_argument("--offline", action="store_true", help="do not ask the ledger for charges not confirmed yet")


# Each command: how its options are added to the parser, in the order `pixdesk --help` lists them. A new command
# (e.g. `storyboard`) is one entry here, one in `HANDLERS`, and its name in `pixdesk.launch.COMMANDS`.
def _add_storyboard(sub: Any) -> None:
    from pixdesk.api.catalogue import PIXVERSE_V5_TRANSITION as TRANSITION

    board = sub.add_parser(
        "storyboard",
        help="keyframes joined into one film: a transition per pair (pixverse/v5/transition), then joined",
        description="One transition per consecutive pair of IMAGEs, run as one group; when all are done they are "
        "joined into one MP4 (without re-encoding when the parts match). The parts stay in the library.",
    )
    board.add_argument("image", nargs="+", metavar="IMAGE", help="the keyframes, in order (at least two)")
    board.add_argument("--prompt", required=True, help="what happens between the keyframes")
    board.add_argument("--negative-prompt", help="what the film should avoid")
    board.add_argument("--resolution", choices=[str(c) for c in TRANSITION.param("resolution").choices])
    board.add_argument(
        "--duration", type=int, choices=[int(c) for c in TRANSITION.param("duration").choices], help="of each part"
    )
    board.add_argument("--style", choices=list(STYLES))
    board.add_argument("--seed", type=int, help="the same seed for every part (steadier look across the film)")
    board.add_argument("--lip-sync-text", help="a line spoken in every part")
    board.add_argument("--speaker", choices=list(SPEAKERS), metavar="NAME", help="voice for --lip-sync-text")
    board.add_argument("--max-in-flight", type=int, metavar="K", help="at most K parts at the server at once")
    board.add_argument("--out", help="where to write the film (default: a name from the prompt, here)")
    _add_run_options(board, what='{"jobs": [the parts], "film": {...}}')


SUBPARSERS: tuple[Callable[[Any], None], ...] = (
    _add_generate,
    _add_lipsync,
    _add_storyboard,
    _add_price,
    _add_simulator,
    _add_books,
)


def build_parser() -> _Parser:
    parser = _top_parser()
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND", title="commands")
    for add in SUBPARSERS:
        add(sub)
    parser.commands = tuple(sub.choices)
    # Set after the sub-commands, whose own usage lines start from `prog`.
    parser.usage = "%(prog)s [-h] [--version] [--demo] [IMAGE ...]\n       %(prog)s [--demo] COMMAND [options]"
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    gui = split_gui_arguments(argv, COMMANDS)
    if gui is not None and not any(o.startswith(("-h", "--h")) for o in gui[0]):  # help lists the commands
        parser = _top_parser()  # the same options and errors as the whole parser, without the commands' choices
        parser.set_defaults(command=None)
    else:
        parser = build_parser()
    try:
        args = parser.parse_args(argv if gui is None else gui[0])
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_INPUT
    if args.command is None:
        return open_window(args.demo, gui[1] if gui else [])
    if args.command != "simulator":
        from pixdesk.logs import setup_logging

        setup_logging()
    handler = HANDLERS.get(args.command)
    if handler is None:
        parser.print_help()
        return EXIT_INPUT
    return handler(args)


def console_main() -> None:
    """The `pixdesk` command (kept for callers of the old entry point): `pixdesk.launch.console_main`."""
    from pixdesk.launch import console_main as launch_main

    launch_main()


# -- generate ------------------------------------------------------------------------------------
def _image_arg(image: str) -> str:
    """A named input from the command line: an http(s) URL as it is, a file as an absolute path (the job is
    saved with it and may be sent from another folder, by `resume`)."""
    from pixdesk.api.images import is_web_url

    return image if is_web_url(image) else str(Path(image).expanduser().resolve())


def _request_from(args: argparse.Namespace) -> GenerationRequest:
    """`generate`'s options as one request (the first IMAGE; `expand` makes one per image and seed). An option
    the model does not take is kept, so `validate` refuses it by name instead of it being dropped unseen."""
    return GenerationRequest(
        image=_image_arg(args.image[0]) if args.image else "",
        prompt=args.prompt,
        model=args.model,
        negative_prompt=args.negative_prompt,
        resolution=args.resolution,
        duration=args.duration,
        style=args.style,
        seed=args.seed,
        lip_sync_tts_content=args.lip_sync_text,
        lip_sync_tts_speaker=args.speaker,
        last_frame=_image_arg(args.last_frame) if args.last_frame else None,
        aspect_ratio=args.aspect_ratio,
        generate_audio_switch=args.audio,
        generate_multi_clip_switch=args.multi_clip,
        thinking_type=args.thinking,
    )


def check_request(request: GenerationRequest, names: Mapping[str, str] = GENERATE_OPTION_NAMES) -> str | None:
    """Why `request` cannot be sent, as one line naming the option (None: it can). The options first (what
    the model takes, with what), then every local file it names, checked by its bytes: nothing leaves before."""
    from pixdesk.api.images import ImageRejected, inspect_image, is_web_url
    from pixdesk.api.media_inputs import MediaRejected, inspect_media

    errors = request.validate()
    if errors:
        return refusal(errors, names)
    for param in request.spec.inputs:
        source = request.inputs().get(param.name)
        if source is None or is_web_url(source):
            continue
        try:
            if param.kind == "image":
                inspect_image(source)
            else:
                inspect_media(source, "video" if param.kind == "video" else "audio")
        except (ImageRejected, MediaRejected) as exc:
            return refusal([FieldError(param.name, str(exc))], names)
    return None


def _job_json(job: Job, path: Path | None, error: str | None, seconds: float) -> dict[str, Any]:
    """What `generate --json` says about one job (several jobs: one of these each, under "jobs")."""
    return {
        "id": job.server_id,
        "client_request_id": job.client_request_id,
        "model": job.request.model,
        "status": job.state.value,
        "seed": job.request.seed,
        "credits": job.credits,
        "credits_used": job.credits,
        "estimated_usd": job.estimated_usd,
        "usd_spent": job.usd_spent,
        "seconds": round(seconds, 2),
        "path": str(path) if path is not None else None,
        "library_path": job.file_path,
        "error": error,
    }


def _in_flight(max_in_flight: int | None) -> dict[str, Any]:
    """`--max-in-flight K` for this run; without it the engine takes Settings' limit (`Runtime.make_engine`)."""
    return {"max_in_flight": max_in_flight} if max_in_flight else {}


def _fail(message: str, code: int) -> int:
    print(f"pixdesk: error: {message}", file=sys.stderr)
    return code


def exit_code_for(job: Job) -> int:
    """0 for a finished clip; otherwise the code of the job's failure kind (an unknown outcome is 4)."""
    from pixdesk.jobs.models import JobState

    if job.state is JobState.COMPLETED:
        return EXIT_OK
    if job.state is JobState.UNKNOWN:
        return EXIT_NETWORK
    return exit_code_for_kind(job.error_kind)


def copy_out(source: str, out: Path) -> str | None:
    """Copy the clip to `out` through a temporary file beside it, so a full or unwritable folder never
    leaves a half-written file at the destination. Returns what went wrong, or None."""
    from pixdesk.jobs.library import export_clip

    try:
        export_clip(Path(source), out)
    except OSError as exc:
        return f"could not write {out}: {exc.strerror or exc}. The clip is safe in the library: {source}"
    return None


def _report_store(runtime: Any) -> None:
    notice = getattr(runtime.store, "recovery_notice", None)
    if notice:
        print(f"pixdesk: {notice}", file=sys.stderr)


class StatusLine:
    """Live status on stderr: one line rewritten in place on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last = ""
        self._open = False  # a terminal line is being rewritten and has no newline yet

    def show(self, job: Job) -> None:
        text = f"[{clean_text(job.status_text(), 60)}] {clean_text(job.request.prompt, 50)}"
        if job.error and job.is_final:
            text += f" — {clean_text(job.error, 400)}"
        if self.tty:
            self.stream.write("\r\033[K" + text)
            self._open = not job.is_final
            if job.is_final:
                self.stream.write("\n")
        else:
            key = f"{job.state}|{job.detail}|{job.server_status}"
            if key == self._last:
                return
            self._last = key
            self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        """The run stops watching a job that is not final (--timeout): what follows starts on a line of its own."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


def _check_timeout(args: argparse.Namespace) -> str | None:
    timeout = getattr(args, "timeout", None)
    return "--timeout must be more than 0 seconds" if timeout is not None and timeout <= 0 else None


def cmd_generate(args: argparse.Namespace) -> int:
    """One job (one image, or none for text-to-video; no --variations): `_run_generate`. Several: `_run_set`."""
    from pixdesk.jobs.batch import BatchError, expand

    if args.max_in_flight is not None and args.max_in_flight < 1:
        return _fail("--max-in-flight must be at least 1", EXIT_INPUT)
    problem = _check_timeout(args)
    if problem:
        return _fail(problem, EXIT_INPUT)
    request = _request_from(args)
    try:
        requests = expand(request, [_image_arg(i) for i in args.image], args.variations)
    except BatchError as exc:
        return _fail(str(exc), EXIT_INPUT)
    if len(requests) == 1:
        return _run_generate(requests[0], args)
    return _run_set(requests, args)


def _clip_name(request: GenerationRequest) -> str:
    """A file name for the clip when --out is a folder: from the prompt (a lip-sync: its line)."""
    from pixdesk.jobs.library import suggested_name

    return suggested_name(request.prompt or request.lip_sync_tts_content or "lip-sync")


def _run_generate(
    request: GenerationRequest, args: argparse.Namespace, names: Mapping[str, str] = GENERATE_OPTION_NAMES
) -> int:
    """One job from checking the input to the clip at --out (`generate`, `lipsync`, and `resend` of a job not
    created). `names` says which option each request field came from, for the one-line refusal."""
    from pixdesk.jobs.models import JobState

    problem = check_request(request, names)
    if problem:
        return _fail(problem, EXIT_INPUT)
    out = Path(args.out).expanduser() if args.out else Path.cwd() / _clip_name(request)
    if out.is_dir():
        out = out / _clip_name(request)
    if not out.parent.is_dir():
        return _fail(f"the folder for --out does not exist: {out.parent}", EXIT_INPUT)

    from pixdesk.runtime import Runtime

    settings = load_settings()
    runtime = Runtime(settings, demo=args.demo or args.sub_demo)
    _report_store(runtime)
    if runtime.demo and not (args.demo or args.sub_demo):
        print(
            "pixdesk: no API key (AIMLAPI_KEY) configured: using the built-in simulator (demo mode).", file=sys.stderr
        )
    if args.max_usd is not None:
        over = _over_budget(runtime, request, args.max_usd)
        if over:
            runtime.close()
            return _fail(over, EXIT_INPUT)
    timeout: float | None = getattr(args, "timeout", None)
    try:
        started = time.monotonic()
        job, timed_out = asyncio.run(
            _generate(runtime, request, args.lookup_wait, getattr(args, "max_in_flight", None), timeout)
        )
        seconds = time.monotonic() - started
    finally:
        runtime.close()
    code = exit_code_for(job)
    write_error = copy_out(job.file_path, out) if code == EXIT_OK and job.file_path else None
    if write_error:
        code = EXIT_INPUT
    error = write_error or job.error
    if timed_out and code != EXIT_OK:
        code = EXIT_NETWORK
        if job.server_id is None and job.is_final:
            error = f"--timeout {timeout:g} s ran out before it was sent: it never will be; nothing was charged"
        else:
            error = (
                f"--timeout {timeout:g} s ran out while it was {job.state.value} at the server: it goes on there, "
                "and `pixdesk resume` fetches it (it is not sent again)"
            )
    if args.json:
        print(json.dumps(_job_json(job, out if code == EXIT_OK else None, error, seconds)))
    elif code == EXIT_OK:
        print(out.resolve())
    if write_error:
        print(f"pixdesk: error: {write_error}", file=sys.stderr)
    elif timed_out and code != EXIT_OK:
        print(f"pixdesk: {error}", file=sys.stderr)
    elif code != EXIT_OK:
        reason = clean_text(job.error or job.state.value, 600)
        if job.state is JobState.UNKNOWN:
            reason = f"outcome unknown: {reason}"
        print(f"pixdesk: {job.state.value}: {reason}", file=sys.stderr)
    return code


async def _generate(
    runtime: Any,
    request: GenerationRequest,
    lookup_wait: float = LOOKUP_WAIT,
    max_in_flight: int | None = None,
    timeout: float | None = None,
) -> tuple[Job, bool]:
    """Run one job to its end, or until `timeout` seconds have passed: (the job as it ended, whether the time ran
    out). When it runs out, a job not sent yet is cancelled (never sent later, never charged) and one the server
    has is left to it, saved (closing the engine waits for a create's answer, so its id is kept)."""
    from pixdesk.jobs.models import NEVER_SENT
    from pixdesk.jobs.services import OnRefused

    # A refused key or empty account ends the run at once with the reason (exit 3), never a wait.
    engine = runtime.make_engine(on_refused=OnRefused.FAIL, resolve_wait=lookup_wait, **_in_flight(max_in_flight))
    status = StatusLine(sys.stderr)
    # Only this job's status: jobs resumed from an earlier run finish (or wait) quietly.
    engine.job_listeners.append(lambda j: status.show(j) if j.request is request else None)
    try:
        await engine.resume_unfinished()
        job_id = (await engine.submit(request)).id
        if await wait_at_most(engine.wait(job_id), timeout):
            return engine.jobs[job_id].snapshot(), False
        if engine.jobs[job_id].state in NEVER_SENT:
            engine.cancel(job_id)
            await engine.wait(job_id)
    except asyncio.CancelledError:  # Ctrl+C: a job not sent yet is never sent, not even by a later `resume`
        await _never_send(engine, [j.id for j in list(engine.jobs.values()) if j.request is request])
        raise
    finally:
        await engine.close()
        status.end()
    return engine.jobs[job_id].snapshot(), True


async def _never_send(engine: Any, job_ids: list[str]) -> None:
    """Stop jobs not sent yet for good: cancelled (a create already on its way gets its answer first), and one
    whose task never ran removed, so the database holds nothing a later run would send."""
    from pixdesk.jobs.models import NEVER_SENT

    for job_id in job_ids:
        if engine.jobs[job_id].state in NEVER_SENT:
            engine.cancel(job_id)
    await wait_at_most(asyncio.gather(*(engine.wait(i) for i in job_ids)), engine.create_deadline() + 1.0)
    for job_id in job_ids:
        live = engine.jobs.get(job_id)
        if live is not None and live.state in NEVER_SENT and not engine.is_running(job_id):
            await engine.remove(job_id)


async def wait_at_most(awaitable: Awaitable[Any], timeout: float | None) -> bool:
    """Whether `awaitable` ended within `timeout` seconds (None: as long as it takes); it is cancelled if not.
    Not `asyncio.wait_for`: `engine.wait` shields the job and swallows its own cancellation, so wait_for would
    return a result after the time ran out instead of saying so."""
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    finally:
        if not task.done():
            task.cancel()
    if task in done:
        task.result()  # its exception, if any
        return True
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


# -- generate: several jobs ------------------------------------------------------------------------
@dataclass
class _SetRun:
    """A set's jobs as the run goes: the latest snapshot of each (None until submitted), and why any was never
    sent. Filled by the engine's listener, read after the loop has ended (also after Ctrl+C)."""

    requests: list[GenerationRequest]
    jobs: list[Job | None] = field(default_factory=list)
    not_sent: dict[int, str] = field(default_factory=dict)
    interrupted: bool = False

    def __post_init__(self) -> None:
        self.jobs = [None] * len(self.requests)


def _run_set(requests: list[GenerationRequest], args: argparse.Namespace) -> int:
    """Several jobs (images × variations) as one group, from checking every input to the clips in the --out
    folder. Exit code: `cli_progress.set_exit_code` (0 only when every clip was written; else 4 > 3 > 2)."""
    from pixdesk.cli_progress import (
        JobLines,
        Outcome,
        clip_names,
        free_path,
        job_label,
        set_exit_code,
        summary,
    )
    from pixdesk.jobs.batch import new_group_id
    from pixdesk.jobs.models import Job, JobState

    checked: set[tuple[str, str | None]] = set()
    for request in requests:  # every request and every picture, before anything is sent
        if (request.image, request.last_frame) in checked:  # its seed's twin was checked: the files are the same
            continue
        checked.add((request.image, request.last_frame))
        problem = check_request(request)
        if problem:
            return _fail(problem, EXIT_INPUT)
    folder = Path(args.out).expanduser() if args.out else Path.cwd()
    if not folder.is_dir():
        return _fail(f"with {len(requests)} jobs, --out must be an existing folder: {folder}", EXIT_INPUT)

    from pixdesk.runtime import Runtime

    runtime = Runtime(load_settings(), demo=args.demo or args.sub_demo)
    _report_store(runtime)
    if runtime.demo and not (args.demo or args.sub_demo):
        print(
            "pixdesk: no API key (AIMLAPI_KEY) configured: using the built-in simulator (demo mode).", file=sys.stderr
        )
    if args.max_usd is not None:
        refusal = _over_budget(runtime, requests[0], args.max_usd, len(requests))
        if refusal:
            runtime.close()
            return _fail(refusal, EXIT_INPUT)
        estimate = runtime.prices.quote(requests[0], len(requests))
    else:  # the price of the whole set, before it starts (each job keeps its own estimate too)
        estimate = _quote(runtime, requests[0], len(requests))
    cost = f", estimated ${estimate.usd:,.2f} in all" if estimate is not None else ", price unknown"
    print(f"pixdesk: {len(requests)} jobs{cost}", file=sys.stderr)
    run = _SetRun(requests)
    lines = JobLines(sys.stderr, [job_label(r) for r in requests])
    try:
        asyncio.run(
            _generate_set(runtime, run, lines, args.lookup_wait, args.max_in_flight, new_group_id(), args.timeout)
        )
    except KeyboardInterrupt:
        run.interrupted = True
    finally:
        runtime.close()

    outcomes: list[Outcome] = []
    for index, (request, name) in enumerate(zip(requests, clip_names(requests), strict=True)):
        job = run.jobs[index] or Job(request=request, state=JobState.CANCELLED, client_request_id=None)
        outcome = Outcome(job, not_sent=run.not_sent.get(index) if job.server_id is None else None)
        if job.state is JobState.COMPLETED and job.file_path:
            target = free_path(folder, name)
            outcome.write_error = copy_out(job.file_path, target)
            outcome.path = None if outcome.write_error else target
        outcomes.append(outcome)
    code = set_exit_code(outcomes, interrupted=run.interrupted)
    if args.json:
        rows = []
        for outcome in outcomes:
            job = outcome.job
            error = outcome.reason if outcome.path is None else None
            seconds = (job.finished_at or time.time()) - job.created_at
            row = _job_json(job, outcome.path, error, seconds)
            row.update(image=job.request.image, group_id=job.group_id)
            rows.append(row)
        print(json.dumps({"jobs": rows}))
    else:
        for outcome in outcomes:
            if outcome.path is not None:
                print(outcome.path.resolve())
    for outcome, label in zip(outcomes, lines.labels, strict=True):
        if outcome.path is None and not outcome.left_at_server and not outcome.not_sent:
            what = "outcome unknown" if outcome.job.state is JobState.UNKNOWN else outcome.job.state.value
            print(f"pixdesk: {what}: {label}: {outcome.reason}", file=sys.stderr)
    unsent = [o for o in outcomes if o.not_sent]
    if unsent:  # one line for them all: they share their reason
        print(f"pixdesk: {len(unsent)} not sent: {unsent[0].reason}", file=sys.stderr)
    if run.interrupted:
        print("pixdesk: interrupted.", file=sys.stderr)
    print(f"pixdesk: {summary(outcomes)}", file=sys.stderr)
    return code


async def _generate_set(
    runtime: Any,
    run: _SetRun,
    lines: JobLines,
    lookup_wait: float,
    max_in_flight: int | None,
    group_id: str,
    timeout: float | None = None,
) -> None:
    """Submit the set, watch it to the end, and keep every promise about money on the way out. A refused key or
    empty account sends nothing more: the jobs not sent yet end at once, never sent (a create already on its way
    gets its answer, so its id is saved), and the jobs the server has are watched to their end (refused too, they
    stall at once, resumable). Ctrl+C, or `timeout` seconds running out, sends nothing more either; the jobs the
    server has stay saved (`pixdesk resume` finishes them) and are never sent again."""
    from pixdesk.cli_progress import is_refusal
    from pixdesk.jobs.models import NEVER_SENT, JobState
    from pixdesk.jobs.services import OnRefused

    engine = runtime.make_engine(on_refused=OnRefused.FAIL, resolve_wait=lookup_wait, **_in_flight(max_in_flight))
    index = {id(r): i for i, r in enumerate(run.requests)}
    ids: list[str] = []
    changed = asyncio.Event()
    stopping: list[str] = []  # why nothing more is sent (empty: the run goes on)

    def hold(i: int, job: Job | None) -> None:
        """Job `i` is never sent: cancelled now (it ends `cancelled`, nothing at the server, no charge)."""
        if i not in run.not_sent:
            run.not_sent[i] = stopping[0]
            lines.note(i, "not sent")
        if job is not None:
            engine.cancel(job.id)

    def stop_sending(reason: str) -> None:
        if stopping:
            return
        stopping.append(reason)
        engine.pause_queue()  # a job caught on its way to the server goes back to `waiting`, unsent
        for i, job in enumerate(run.jobs):
            live = engine.jobs.get(job.id) if job is not None else None
            if job is None or (live is not None and live.state in NEVER_SENT):
                hold(i, job)

    def on_job(job: Job) -> None:
        i = index.get(id(job.request))
        if i is None:
            return  # a job from an earlier run, resumed quietly
        run.jobs[i] = job
        changed.set()
        if stopping and job.server_id is None and job.state in (*NEVER_SENT, JobState.CANCELLED):
            if job.state is not JobState.CANCELLED:
                hold(i, job)
            return
        lines.show(i, job)
        if not stopping and job.is_final and is_refusal(job):
            stop_sending("Not sent: the API refused the key or the credits (see the failed job); nothing was charged.")

    def ours() -> list[str]:
        """This set's jobs the engine knows, found by their request: also one whose `submit` was interrupted
        (Ctrl+C) after it was saved but before it returned its id, which must not be left for a later run to send."""
        return [job_id for job_id, job in list(engine.jobs.items()) if id(job.request) in index]

    def unsettled() -> list[str]:
        """Our jobs still on their way: not sent yet (being cancelled), or a create waiting for its answer."""
        on_the_way = (*NEVER_SENT, JobState.SUBMITTING)
        return [i for i in ours() if engine.jobs[i].state in on_the_way and engine.is_running(i)]

    engine.job_listeners.append(on_job)
    try:
        await engine.resume_unfinished()
        for request in run.requests:
            if stopping:
                break
            job = await engine.submit(request, group_id=group_id)
            ids.append(job.id)
        # After a refusal the jobs not sent end at once (cancelled); those the server has are watched to their end
        # (with a refused key their polls are refused too: they stall at once, resumable).
        if not await wait_at_most(asyncio.gather(*(engine.wait(i) for i in ids)), timeout):
            # The jobs the server has are left to it (resumable); the others are never sent.
            stop_sending(f"Not sent: --timeout {timeout:g} s ran out; nothing was charged.")
    except asyncio.CancelledError:  # Ctrl+C
        run.interrupted = True
        stop_sending("Not sent: interrupted (Ctrl+C); nothing was charged.")
        raise
    finally:
        if stopping:
            await asyncio.sleep(0)  # a job submitted just before the stop has started: it is held, not sent
            for i, job in enumerate(run.jobs):
                live = engine.jobs.get(job.id) if job is not None else None
                if live is not None and live.state in NEVER_SENT:
                    hold(i, job)
            # Closing now would leave held jobs `waiting` (a later `resume`, or the window, would send them) and
            # a create on its way without its answer: wait for both to settle, as long as a create may take.
            deadline = time.monotonic() + engine.create_deadline() + 1.0
            while unsettled() and time.monotonic() < deadline:
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.2)
            for job_id in ours():
                live = engine.jobs.get(job_id)
                if live is not None and live.state in NEVER_SENT and not engine.is_running(job_id):
                    await engine.remove(job_id)  # cancelled before its task first ran: never sent, never kept
        await engine.close()
        for position, job_id in enumerate(ids):
            live = engine.jobs.get(job_id)
            run.jobs[position] = live.snapshot() if live is not None else None  # None: removed, never sent


# -- lipsync --------------------------------------------------------------------------------------
def _finished_clip(ref: str) -> str:
    """The saved clip of the finished job `ref` (its id, server id or client request id, as `pixdesk jobs`
    shows them); raises ValueError with the reason when there is none."""
    from pixdesk.config import database_path
    from pixdesk.jobs.models import JobState
    from pixdesk.jobs.store import JobStore

    store = JobStore(database_path()) if database_path().exists() else None
    try:
        matches = [j for j in store.all() if ref in (j.id, j.server_id, j.client_request_id)] if store else []
    finally:
        if store is not None:
            store.close()
    if not matches:
        raise ValueError(f"{ref}: no such file, and no job with that id (see `pixdesk jobs`)")
    job = matches[0]
    if job.state is not JobState.COMPLETED or not job.file_path:
        raise ValueError(f"job {ref} is {job.state.value}: only a finished clip can be made to speak")
    if not Path(job.file_path).is_file():
        raise ValueError(f"the clip of job {ref} is no longer at {job.file_path}")
    return job.file_path


def lipsync_request(args: argparse.Namespace) -> GenerationRequest:
    """`lipsync`'s options as a request for pixverse/lip-sync; raises ValueError (with the option named) when
    CLIP is neither a URL, a file nor a finished job."""
    from pixdesk.api.images import is_web_url

    clip = args.clip
    if not is_web_url(clip) and not Path(clip).expanduser().exists():
        try:
            clip = _finished_clip(clip)
        except ValueError as exc:
            raise ValueError(f"CLIP: {exc}") from None
    if args.voice is not None and args.line is None:
        raise ValueError("--voice: it is the voice of --line; an --audio-file speaks in its own")
    return GenerationRequest(
        model=PIXVERSE_LIP_SYNC.model_id,
        video=_image_arg(clip),
        audio=_image_arg(args.audio_file) if args.audio_file else None,
        lip_sync_tts_content=args.line,
        lip_sync_tts_speaker=args.voice,
    )


def cmd_lipsync(args: argparse.Namespace) -> int:
    """`pixdesk lipsync CLIP (--line TEXT [--voice V] | --audio-file FILE) --out FILE`: one lip-sync job, checked
    and run as `generate` runs one job (same engine, progress, exit codes and --json row)."""
    problem = _check_timeout(args)
    if problem:
        return _fail(problem, EXIT_INPUT)
    try:
        request = lipsync_request(args)
    except ValueError as exc:
        return _fail(str(exc), EXIT_INPUT)
    return _run_generate(request, args, LIPSYNC_OPTION_NAMES)


# -- other commands ------------------------------------------------------------------------------
def cmd_simulator(args: argparse.Namespace) -> int:
    from pixdesk.simulator import Simulator
    from pixdesk.simulator.durations import parse_durations

    try:
        durations = parse_durations(args.durations) if args.durations else None
    except ValueError as exc:
        print(f"pixdesk simulator: {exc}", file=sys.stderr)
        return EXIT_INPUT
    sim = Simulator(
        port=args.port,
        queue_seconds=args.queue_seconds,
        generate_seconds=args.generate_seconds,
        api_key=args.api_key,
        durations=durations,
        timing_seed=args.timing_seed,
    ).start()
    print(sim.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return EXIT_OK


def _job_row(job: Job) -> dict[str, Any]:
    return {
        "id": job.server_id or job.id,
        "local_id": job.id,
        "client_request_id": job.client_request_id,
        "model": job.request.model,
        "state": job.state.value,
        "prompt": job.request.prompt,
        "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.created_at)),
        "file": job.file_path,
        "credits": job.credits,
        "estimated_usd": job.estimated_usd,
        "usd_spent": job.usd_spent,
        "charged_usd": job.charged_usd,
        "demo": job.backend == "demo",
        "error": job.error,
    }


def cmd_jobs(args: argparse.Namespace) -> int:
    from pixdesk.config import database_path
    from pixdesk.jobs.store import JobStore

    store = JobStore(database_path())
    if store.recovery_notice:
        print(f"pixdesk: {store.recovery_notice}", file=sys.stderr)
    try:
        rows = [_job_row(j) for j in store.all(limit=args.limit)]
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("No jobs yet.")
    for row in rows:
        prompt = row["prompt"] if len(row["prompt"]) <= 40 else row["prompt"][:39] + "…"
        print(f"{row['created']}  {row['state']:<11} {prompt:<40}  {row['file'] or ''}")
        print(f"    id: {row['id']}")
    return EXIT_OK


def _quote(runtime: Any, request: GenerationRequest, count: int = 1) -> Any:
    """A live price (or the cached one when the network fails), from the API's model list."""
    runtime.prices.refresh(runtime.client, request.model)
    return runtime.prices.quote(request, count)


def _over_budget(runtime: Any, request: GenerationRequest, max_usd: float, count: int = 1) -> str | None:
    """Why `--max-usd` refuses `count` jobs like `request` (the set's total, as `price --variations` quotes it)."""
    quote = _quote(runtime, request, count)
    if quote is None:
        return f"no price is known for {request.model} at these settings, and --max-usd {max_usd:g} was given"
    if quote.usd > max_usd:
        jobs = f" for {count} jobs" if count != 1 else ""
        return f"the estimated cost ${quote.usd:,.2f}{jobs} is over --max-usd {max_usd:g}; nothing was sent"
    return None


def price_request(model: str, resolution: str | None, duration: int | None) -> GenerationRequest | str:
    """The request `price` quotes, or why `model` cannot have these settings (one line naming the option):
    10 s is v5.5's only, lip-sync has neither, 1080p is 5 s only."""
    request = GenerationRequest(model=model, resolution=resolution, duration=duration)
    errors = [e for e in request.validate() if e.field in PRICE_OPTION_NAMES]
    return refusal(errors, PRICE_OPTION_NAMES) if errors else request


def _price_label(spec: ModelSpec) -> str:
    return "" if spec is DEFAULT_MODEL else f" with {spec.model_id}"


def cmd_price(args: argparse.Namespace) -> int:
    """`pixdesk price`: 0 with the estimate; 4 when no price is known (offline with no cache, or variable);
    2 for settings the model does not take."""
    from pixdesk.api.pricing import CREDITS_PER_USD, quote_json
    from pixdesk.jobs.batch import MAX_VARIATIONS, set_size
    from pixdesk.runtime import Runtime

    if not 1 <= args.variations <= MAX_VARIATIONS:
        return _fail(f"--variations must be 1 to {MAX_VARIATIONS}", EXIT_INPUT)
    if args.images < 1:
        return _fail("--images must be at least 1", EXIT_INPUT)
    count = set_size(args.images, args.variations)
    request = price_request(args.model, args.resolution, args.duration)
    if isinstance(request, str):
        return _fail(request, EXIT_INPUT)
    runtime = Runtime(load_settings(), demo=args.demo or args.sub_demo)
    try:
        quote = _quote(runtime, request, count)
    finally:
        runtime.close()
    if args.json:
        print(json.dumps(quote_json(quote)))
    elif quote is None:
        print(f"price unknown{_price_label(request.spec)}")
    else:
        jobs = f"{count} jobs" if count != 1 else "1 job"
        origin = "live price" if quote.source == "live" else "cached price (offline)"
        print(
            f"${quote.usd:,.2f} for {jobs}{_price_label(request.spec)} ({quote.usd * CREDITS_PER_USD:,.0f} credits)"
            f" — {origin}"
        )
    return EXIT_OK if quote is not None else EXIT_NETWORK


def _confirm_charges(demo: bool) -> None:
    """Ask the ledger about finished jobs whose charge has not been confirmed yet (one pass, best effort)."""
    from pixdesk.runtime import Runtime

    runtime = Runtime(load_settings(), demo=demo)
    if runtime.demo:  # demo jobs cost nothing: no ledger to ask
        runtime.close()
        return

    async def once() -> None:
        engine = runtime.make_engine(ledger_interval=None)
        try:
            await engine.load_history()
            await engine.reconcile_charges()
        finally:
            await engine.close()

    try:
        asyncio.run(once())
    finally:
        runtime.close()


def cmd_spend(args: argparse.Namespace) -> int:
    """Today's and this month's live spend from the job database (demo jobs never count)."""
    from pixdesk.config import database_path
    from pixdesk.jobs.spend import CostSource, cost_of, is_demo, spend_of, start_of_day, start_of_month
    from pixdesk.jobs.store import JobStore

    if not args.offline:
        _confirm_charges(demo=args.demo)
    store = JobStore(database_path())
    if store.recovery_notice:
        print(f"pixdesk: {store.recovery_notice}", file=sys.stderr)
    try:
        jobs = store.all()
    finally:
        store.close()
    today, month = spend_of(jobs, start_of_day()), spend_of(jobs, start_of_month())
    rows = []
    for job in jobs:
        cost = cost_of(job)
        if is_demo(job) or cost.source is CostSource.NONE or job.created_at < start_of_month():
            continue
        rows.append(
            {
                "id": job.server_id or job.id,
                "client_request_id": job.client_request_id,
                "created": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.created_at)),
                "state": job.state.value,
                "prompt": job.request.prompt,
                "usd": round(cost.usd, 4),
                "source": cost.source.value,
            }
        )
    summary = {
        "currency": "USD",
        "today": {"usd": round(today.usd, 4), "in_flight_usd": round(today.in_flight_usd, 4), "jobs": today.jobs},
        "month": {"usd": round(month.usd, 4), "in_flight_usd": round(month.in_flight_usd, 4), "jobs": month.jobs},
        "jobs": rows,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return EXIT_OK
    for label, spend in (("Today", today), ("This month", month)):
        flying = f" (+ ${spend.in_flight_usd:,.2f} in flight)" if spend.in_flight_usd else ""
        print(f"{label:<11} ${spend.usd:,.2f}{flying} · {spend.jobs} job{'s' if spend.jobs != 1 else ''}")
    for row in rows:
        prompt = clean_text(str(row["prompt"]), 40)
        print(f"  {row['created']}  ${row['usd']:>8,.2f} {row['source']:<9} {row['state']:<10} {prompt}")
    return EXIT_OK


def cmd_resend(args: argparse.Namespace) -> int:
    """Send again, as a new job, one the usage logs show was never created: the person's explicit choice."""
    from pixdesk.config import database_path
    from pixdesk.jobs.models import JobState
    from pixdesk.jobs.store import JobStore

    store = JobStore(database_path())
    try:
        matches = [j for j in store.all() if args.job in (j.id, j.server_id, j.client_request_id)]
    finally:
        store.close()
    if not matches:
        return _fail(f"no job {args.job!r} (see `pixdesk jobs`)", EXIT_INPUT)
    old = matches[0]
    if old.state is not JobState.NOT_CREATED:
        why = {
            JobState.UNKNOWN: "PixDesk does not know yet whether it was created (`pixdesk resume` keeps looking)",
        }.get(old.state, f"it is {old.state.value}, not 'not created'")
        return _fail(f"not resent: {why}. Use `generate` to make a new job on purpose.", EXIT_INPUT)
    options = argparse.Namespace(**vars(args))
    options.sub_demo, options.max_usd, options.lookup_wait = old.backend == "demo", None, LOOKUP_WAIT
    return _run_generate(old.request, options)


def cmd_resume(args: argparse.Namespace) -> int:
    from pixdesk.runtime import Runtime

    runtime = Runtime(load_settings(), demo=args.demo)
    _report_store(runtime)
    try:
        jobs = asyncio.run(_resume(runtime, args.lookup_wait))
    finally:
        runtime.close()
    if not jobs:
        print("Nothing to resume.")
        return EXIT_OK
    worst = EXIT_OK
    for job in jobs:
        outcome = job.file_path or clean_text(job.error or "")
        print(f"{job.state.value:<11} {clean_text(job.request.prompt, 50)}  {outcome}")
        code = exit_code_for(job)
        worst = max(worst, code) if code != EXIT_INPUT else max(worst, EXIT_REFUSED)
    return worst


async def _resume(runtime: Any, lookup_wait: float = LOOKUP_WAIT) -> list[Job]:
    from pixdesk.jobs.services import OnRefused

    engine = runtime.make_engine(on_refused=OnRefused.FAIL, resolve_wait=lookup_wait)
    status = StatusLine(sys.stderr)
    engine.job_listeners.append(status.show)
    try:
        resumed = await engine.resume_unfinished()
        await engine.wait_all()
        return [engine.jobs[j.id].snapshot() if j.id in engine.jobs else j for j in resumed]
    finally:
        await engine.close()


# What runs each command (see `SUBPARSERS` for their options).
HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "generate": cmd_generate,
    "lipsync": cmd_lipsync,
    "storyboard": lambda args: __import__("pixdesk.cli_storyboard", fromlist=["cmd_storyboard"]).cmd_storyboard(args),
    "price": cmd_price,
    "simulator": cmd_simulator,
    "jobs": cmd_jobs,
    "resume": cmd_resume,
    "resend": cmd_resend,
    "spend": cmd_spend,
}
