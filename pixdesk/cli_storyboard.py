"""`pixdesk storyboard IMG1 IMG2 IMG3... --prompt TEXT --out film.mp4`: one transition per pair of keyframes,
run as one group, joined into one film when all are done (the parts stay in the library).

Money first, as everywhere: every keyframe and option is checked before anything is sent; a refused key,
Ctrl+C or `--timeout` sends nothing more, the parts the server has stay saved (`pixdesk resume` finishes
them and joins the film) and are never sent again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from pixdesk.api.request import GenerationRequest, ValidationError
from pixdesk.api.text import clean_text
from pixdesk.cli_progress import JobLines, image_stem
from pixdesk.config import load_settings
from pixdesk.jobs.models import Job

EXIT_OK, EXIT_INPUT, EXIT_NETWORK = 0, 2, 4
NAMES = {
    "image_url": "IMAGE",
    "tail_image_url": "IMAGE",
    "prompt": "--prompt",
    "negative_prompt": "--negative-prompt",
    "resolution": "--resolution",
    "duration": "--duration",
    "style": "--style",
    "seed": "--seed",
    "lip_sync_tts_content": "--lip-sync-text",
    "lip_sync_tts_speaker": "--speaker",
}


def base_request(args: argparse.Namespace) -> GenerationRequest:
    """The options every transition of the storyboard shares."""
    from pixdesk.jobs.storyboard import TRANSITION_MODEL

    return GenerationRequest(
        model=TRANSITION_MODEL,
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        resolution=args.resolution,
        duration=args.duration,
        style=args.style,
        seed=args.seed,
        lip_sync_tts_content=args.lip_sync_text,
        lip_sync_tts_speaker=args.speaker,
    )


def cmd_storyboard(args: argparse.Namespace) -> int:
    from pixdesk import cli
    from pixdesk.jobs import storyboard

    if args.timeout is not None and args.timeout <= 0:
        return cli._fail("--timeout must be more than 0 seconds", EXIT_INPUT)
    if args.max_in_flight is not None and args.max_in_flight < 1:
        return cli._fail("--max-in-flight must be at least 1", EXIT_INPUT)
    keyframes = [cli._image_arg(i) for i in args.image]
    base = base_request(args)
    try:
        parts = storyboard.part_requests(keyframes, base)
    except ValidationError as exc:
        return cli._fail(cli.refusal(exc.errors, NAMES), EXIT_INPUT)
    for request in parts:  # every keyframe is checked, by its bytes, before anything is sent
        problem = cli.check_request(request, NAMES)
        if problem:
            return cli._fail(problem, EXIT_INPUT)
    out = Path(args.out).expanduser() if args.out else Path.cwd() / film_name(base)
    if out.is_dir():
        out = out / film_name(base)
    if not out.parent.is_dir():
        return cli._fail(f"the folder for --out does not exist: {out.parent}", EXIT_INPUT)

    from pixdesk.runtime import Runtime

    runtime = Runtime(load_settings(), demo=args.demo or args.sub_demo)
    cli._report_store(runtime)
    if runtime.demo and not (args.demo or args.sub_demo):
        print(
            "pixdesk: no API key (AIMLAPI_KEY) configured: using the built-in simulator (demo mode).", file=sys.stderr
        )
    if args.max_usd is not None:
        over = cli._over_budget(runtime, parts[0], args.max_usd, len(parts))
        if over:
            runtime.close()
            return cli._fail(over, EXIT_INPUT)
    estimate = cli._quote(runtime, parts[0], len(parts))
    cost = f", estimated ${estimate.usd:,.2f} in all" if estimate is not None else ", price unknown"
    print(f"pixdesk: {len(parts)} transitions{cost}, then joined into one film", file=sys.stderr)
    labels = [f"{image_stem(p.image)} → {image_stem(p.last_frame or '')}" for p in parts] + ["film"]
    lines = JobLines(sys.stderr, labels)
    started = time.monotonic()
    result: dict[str, Any] = {}
    interrupted = False
    try:
        asyncio.run(_run(runtime, keyframes, base, args, lines, result))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        runtime.close()
    return _report(args, out, result, time.monotonic() - started, interrupted)


def film_name(base: GenerationRequest) -> str:
    from pixdesk.jobs.library import suggested_name

    return suggested_name(f"storyboard {base.prompt}")


async def _run(
    runtime: Any,
    keyframes: list[str],
    base: GenerationRequest,
    args: argparse.Namespace,
    lines: JobLines,
    result: dict[str, Any],
) -> None:
    """Submit the parts and the film, follow them, and on a stop (refusal, Ctrl+C, time out) send nothing more."""
    from pixdesk import cli
    from pixdesk.cli_progress import is_refusal
    from pixdesk.jobs.models import NEVER_SENT
    from pixdesk.jobs.services import OnRefused

    engine = runtime.make_engine(
        on_refused=OnRefused.FAIL, resolve_wait=args.lookup_wait, **cli._in_flight(args.max_in_flight)
    )
    order: dict[str, int] = {}

    def on_job(job: Job) -> None:
        index = order.get(job.id)
        if index is not None:
            lines.show(index, job)
        if job.id in order and job.is_final and is_refusal(job) and not result.get("stopped"):
            stop("the API refused the key or the credits")

    def stop(reason: str) -> None:
        result["stopped"] = reason
        engine.pause_queue()  # a part on its way goes back to `waiting`, unsent
        for job_id in order:
            live = engine.jobs.get(job_id)
            if live is not None and live.state in NEVER_SENT:
                engine.cancel(job_id)

    engine.job_listeners.append(on_job)
    try:
        await engine.resume_unfinished()
        parts, film = await engine.submit_storyboard(keyframes, base)
        order.update({p.id: i for i, p in enumerate(parts)})
        order[film.id] = len(parts)
        result["parts"], result["film"] = [p.id for p in parts], film.id
        if not await cli.wait_at_most(engine.wait(film.id), args.timeout):
            stop(f"--timeout {args.timeout:g} s ran out")
    except asyncio.CancelledError:  # Ctrl+C
        stop("interrupted (Ctrl+C)")
        raise
    finally:
        if result.get("stopped"):  # let the cancelled parts settle (saved as never sent) before closing
            unsent = [i for i in order if i in engine.jobs and engine.jobs[i].state in NEVER_SENT]
            await cli.wait_at_most(asyncio.gather(*(engine.wait(i) for i in unsent)), engine.create_deadline())
        await engine.close()
        result["jobs"] = {i: engine.jobs[i].snapshot() for i in order if i in engine.jobs}


def _report(args: argparse.Namespace, out: Path, result: dict[str, Any], seconds: float, interrupted: bool) -> int:
    from pixdesk import cli
    from pixdesk.jobs.models import JobState

    jobs: dict[str, Job] = result.get("jobs", {})
    film = jobs.get(result.get("film", ""))
    parts = [jobs[i] for i in result.get("parts", []) if i in jobs]
    code: int
    error: str | None = None
    path: Path | None = None
    if film is not None and film.state is JobState.COMPLETED and film.file_path:
        error = cli.copy_out(film.file_path, out)
        code = EXIT_INPUT if error else EXIT_OK
        path = None if error else out
    elif result.get("stopped") or interrupted:
        code = EXIT_NETWORK
        reason = result.get("stopped") or "interrupted (Ctrl+C)"
        error = (
            f"{reason}: the parts the server has go on there and `pixdesk resume` finishes them and joins the "
            "film (they are not sent again); parts not sent yet never will be"
        )
        failed = [p for p in parts if p.is_final and p.state is not JobState.COMPLETED and p.server_id]
        if "refused" in reason and failed:
            code = cli.exit_code_for(failed[0])
    else:
        worst = [p for p in parts if p.state is not JobState.COMPLETED]
        code = cli.exit_code_for(worst[0]) if worst else (cli.exit_code_for(film) if film else EXIT_NETWORK)
        code = code or EXIT_NETWORK
        error = clean_text((film.error if film else None) or "the film was not joined", 600)
    if args.json:
        rows = [
            {**cli._job_json(p, None, p.error, (p.finished_at or time.time()) - p.created_at), "image": p.request.image}
            for p in parts
        ]
        film_row: dict[str, Any] = (
            cli._job_json(film, path, error, seconds) if film is not None else {"status": "not made"}
        )
        film_row["parts"] = [p.client_request_id for p in parts]
        print(json.dumps({"jobs": rows, "film": film_row}))
    elif path is not None:
        print(path.resolve())
    if error:
        print(f"pixdesk: {error}", file=sys.stderr)
    return code
