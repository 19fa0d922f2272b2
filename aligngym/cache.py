"""Where aligngym keeps what it trains once and reuses (the pixel-debate judges, the
weak-to-strong students' self-supervised encoders).

The folder is ``$ALIGNGYM_CACHE`` if set, else ``$XDG_CACHE_HOME/aligngym``, else
``~/.cache/aligngym``. Files are written atomically, so a job killed mid-write or two jobs of a
sweep training the same thing at once leave a whole file or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cache_dir() -> Path:
    """The cache folder (created)."""
    root = os.environ.get("ALIGNGYM_CACHE")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(base) / "aligngym"
    folder = Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cache_path(kind: str, key: dict[str, Any], suffix: str) -> Path:
    """The file of ``kind`` (a prefix) for ``key`` (the settings that determine it)."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{kind}_{digest}{suffix}"


def cached_state(kind: str, key: dict[str, Any], module: Any, train: Callable[[], None]) -> bool:
    """Fills ``module`` (a torch module) from the cache file of ``kind`` and ``key``, or runs
    ``train()`` (which trains ``module`` in place) and stores its state there atomically.

    Returns:
        Whether the state came from the cache.
    """
    import torch

    path = cache_path(kind, key, ".pt")
    if path.is_file():
        module.load_state_dict(torch.load(path, weights_only=True))
        return True
    train()
    partial = path.with_suffix(f".{os.getpid()}.{time.monotonic_ns()}.part")
    torch.save(module.state_dict(), partial)
    partial.replace(path)
    return False
