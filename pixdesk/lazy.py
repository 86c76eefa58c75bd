"""A package's names imported on first use (PEP 562), so that importing one light module of it does not pull in
the heavy ones (the HTTP stack, image decoding, the engine) before the window has shown."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The package's `__getattr__`: `where` maps each exported name to the module defining it; a name is imported
    when first asked for and then kept in `namespace` (the package's globals), so later lookups are plain."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
