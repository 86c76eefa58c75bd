"""Many jobs on purpose: N variations (distinct seeds) of one request, over one image or many, as one group.

The same seeds go to every image of a batch, so clips of different pictures with the same seed compare fairly.
With a seed S the variations are S, S+1, ... (what a person who typed S expects to be able to reproduce); without
one they are drawn at random, distinct. Qt-free: the window and the CLI both expand a set through here.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import replace

from pixdesk.api.catalogue import SEED_MAX
from pixdesk.api.request import GenerationRequest

MAX_VARIATIONS = 8  # the ×N control's top; the CLI allows the same


class BatchError(ValueError):
    """A set that cannot be made (the message says why, for the field that caused it)."""


def new_group_id() -> str:
    return f"group-{uuid.uuid4().hex[:12]}"


def variation_seeds(seed: int | None, count: int, rng: random.Random | None = None) -> list[int | None]:
    """The seeds of `count` variations. One variation keeps the form's seed as it is (None stays random at the
    server); several get explicit seeds, so each clip can be made again."""
    if not 1 <= count <= MAX_VARIATIONS:
        raise BatchError(f"Variations must be 1 to {MAX_VARIATIONS}.")
    if count == 1:
        return [seed]
    if seed is not None:
        if seed < 0 or seed + count - 1 > SEED_MAX:
            raise BatchError(f"With {count} variations the seed must be 0 to {SEED_MAX - count + 1}.")
        return [seed + i for i in range(count)]
    draw = rng or random.SystemRandom()
    seeds: list[int | None] = []
    while len(seeds) < count:
        candidate = draw.randint(0, SEED_MAX)
        if candidate not in seeds:
            seeds.append(candidate)
    return seeds


def expand(
    request: GenerationRequest, images: Sequence[str], count: int = 1, rng: random.Random | None = None
) -> list[GenerationRequest]:
    """One request per image and seed, in image order then seed order; `request.image` is replaced by each of
    `images` (none given: the request's own image)."""
    seeds = variation_seeds(request.seed, count, rng)
    pictures = list(images) or [request.image]
    return [replace(request, image=image, seed=seed) for image in pictures for seed in seeds]


def set_size(images: int, count: int) -> int:
    """How many jobs a set makes (what the estimate and the spending guard must cover)."""
    return max(1, images) * count
