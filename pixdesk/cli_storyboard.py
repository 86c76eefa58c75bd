"""`pixdesk storyboard IMG1 IMG2 IMG3... --prompt TEXT --out film.mp4`: one transition per pair of keyframes,
run as one group, joined into one film when all are done (the parts stay in the library).

Money first, as everywhere: every keyframe and option is checked before anything is sent; a refused key,
Ctrl+C or `--timeout` sends nothing more, the parts the server has stay saved (`pixdesk resume` finishes
them and joins the film) and are never sent again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from pixdesk.api.errors import EXIT_OK, exit_code_for_kind
from pixdesk.api.request import GenerationRequest, ValidationError
from pixdesk.api.text import clean_text
from pixdesk.cli import EXIT_INPUT, EXIT_NETWORK, GENERATE_OPTION_NAMES
from pixdesk.cli_progress import JobLines, image_stem
from pixdesk.config import load_settings
from pixdesk.jobs.models import Job
from pixdesk.jobs.services import OnRefused

# The option each request field came from: generate's, except that the last frame is one of the IMAGEs.
NAMES = {**GENERATE_OPTION_NAMES, "tail_image_url": "IMAGE"}


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
    """Submit the parts and the film, follow them, and on a stop (refusal, Ctrl+C, time out) send nothing more:
    every part not sent yet is cancelled as soon as it is seen (also one that a create on its way puts back),
    creates on their way get their answers (their ids are saved), and parts that never started are removed so
    that no later `resume` sends them. The film is left: `resume` joins it if every part finishes."""
    from pixdesk import cli
    from pixdesk.cli_progress import is_refusal
    from pixdesk.jobs.batch import new_group_id
    from pixdesk.jobs.models import NEVER_SENT, JobState

    engine = runtime.make_engine(
        on_refused=OnRefused.FAIL, resolve_wait=args.lookup_wait, **cli._in_flight(args.max_in_flight)
    )
    group_id = new_group_id()
    result["group"] = group_id
    order: dict[str, int] = {}
    changed = asyncio.Event()

    def ours() -> list[Job]:
        """Every job of this storyboard the engine knows, also one saved by a submit that Ctrl+C interrupted."""
        return [j for j in list(engine.jobs.values()) if j.group_id == group_id]

    def hold(job: Job) -> None:
        if not job.is_film and job.server_id is None and job.state in NEVER_SENT:
            engine.cancel(job.id)

    def on_job(job: Job) -> None:
        if job.group_id != group_id:
            return  # a job of an earlier run, resumed quietly
        changed.set()
        index = order.get(job.id)
        if index is not None:
            lines.show(index, job)
        if result.get("stopped"):
            hold(job)
        elif job.is_final and is_refusal(job):
            result["refused"] = job.error_kind
            stop("the API refused the key or the credits")

    def stop(reason: str) -> None:
        if result.get("stopped"):
            return
        result["stopped"] = reason
        engine.pause_queue()  # a part on its way goes back to `waiting`, unsent
        for job in ours():
            hold(job)

    def unsettled() -> list[Job]:
        on_the_way = (*NEVER_SENT, JobState.SUBMITTING)
        return [j for j in ours() if not j.is_film and j.state in on_the_way and engine.is_running(j.id)]

    engine.job_listeners.append(on_job)
    try:
        await engine.resume_unfinished()
        parts, film = await engine.submit_storyboard(keyframes, base, group_id)
        order.update({p.id: i for i, p in enumerate(parts)})
        order[film.id] = len(parts)
        result["parts"], result["film"] = [p.id for p in parts], film.id
        if not await cli.wait_at_most(engine.wait(film.id), args.timeout):
            stop(f"--timeout {args.timeout:g} s ran out")
    except asyncio.CancelledError:  # Ctrl+C
        stop("interrupted (Ctrl+C)")
        raise
    finally:
        if result.get("stopped"):
            await asyncio.sleep(0)  # a part submitted just before the stop has started: it is held, not sent
            for job in ours():
                hold(job)
            deadline = time.monotonic() + engine.create_deadline() + 1.0
            while unsettled() and time.monotonic() < deadline:
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.2)
            for job in ours():
                if not job.is_film and job.state in NEVER_SENT and not engine.is_running(job.id):
                    await engine.remove(job.id)  # saved but never started: never sent, never kept
        await engine.close()
        result["jobs"] = {j.id: j.snapshot() for j in ours()}
        if "film" not in result:  # interrupted inside submit: what was saved of it
            films = [j for j in ours() if j.is_film]
            if films:
                result["film"], result["parts"] = films[0].id, list(films[0].parts)


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
        reason = result.get("stopped") or "interrupted (Ctrl+C)"
        code = exit_code_for_kind(result["refused"]) if result.get("refused") else EXIT_NETWORK
        error = (
            f"{reason}: the parts the server has go on there, and `pixdesk resume` finishes them (never sending "
            "them again) and joins the film if every part finishes; parts not sent yet never will be (the film "
            "then says which: Retry it in the window)"
        )
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
