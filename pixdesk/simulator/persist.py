"""The demo simulator's memory across restarts: each generation as one small JSON file under the data folder,
so a demo job survives closing PixDesk exactly like a live one (the real service remembers its jobs too)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from hashlib import sha256
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
KEEP_SECONDS = 14 * 24 * 3600  # older demo generations are forgotten at start


class GenerationFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, gen_id: str) -> Path:
        return self.folder / f"{sha256(gen_id.encode()).hexdigest()[:32]}.json"

    def save(self, record: dict[str, Any]) -> None:
        path = self._path(str(record["id"]))
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        os.replace(tmp, path)

    def load(self, now: float | None = None) -> list[dict[str, Any]]:
        """Every remembered generation younger than KEEP_SECONDS; damaged or stale files are dropped."""
        now = time.time() if now is None else now
        records: list[dict[str, Any]] = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                fresh = isinstance(record, dict) and now - float(record["created"]) < KEEP_SECONDS
            except (OSError, ValueError, KeyError, TypeError):
                fresh = False
                record = None
            if fresh and isinstance(record, dict):
                records.append(record)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
        return records
