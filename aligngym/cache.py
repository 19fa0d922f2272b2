"""Where aligngym keeps what it computes once and reuses (the pixel-debate judges, the
weak-to-strong students' self-supervised encoders and language-model features, a language
model's sampled solutions).

The folder is ``$ALIGNGYM_CACHE`` if set, else ``$XDG_CACHE_HOME/aligngym``, else
``~/.cache/aligngym``. Files are written atomically, so a job killed mid-write or two jobs of a
sweep training the same thing at once leave a whole file or none.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


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
    _write_atomically(path, lambda partial: torch.save(module.state_dict(), partial))
    return False


def cached_json(kind: str, key: dict[str, Any], compute: Callable[[], Any]) -> tuple[Any, bool]:
    """The JSON value stored in the cache file of ``kind`` and ``key``, or ``compute()``'s,
    which is then stored there atomically.

    Returns:
        The value, and whether it came from the cache.
    """
    path = cache_path(kind, key, ".json")
    if path.is_file():
        return json.loads(path.read_text()), True
    value = compute()
    _write_atomically(path, lambda partial: partial.write_text(json.dumps(value)))
    return value, False


def cached_array(
    kind: str, key: dict[str, Any], compute: Callable[[], np.ndarray]
) -> tuple[np.ndarray, bool]:
    """The array stored in the cache file of ``kind`` and ``key``, or ``compute()``'s, which is
    then stored there atomically (``.npy``).

    Returns:
        The array, and whether it came from the cache.
    """
    path = cache_path(kind, key, ".npy")
    if path.is_file():
        return np.load(path), True
    array = np.asarray(compute())
    _write_atomically(path, lambda partial: partial.write_bytes(_npy_bytes(array)))
    return array, False


def _npy_bytes(array: np.ndarray) -> bytes:
    """``array`` as the bytes of a ``.npy`` file."""
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Has ``write`` fill a private file beside ``path``, then moves it into place."""
    partial = path.with_suffix(f".{os.getpid()}.{time.monotonic_ns()}.part")
    write(partial)
    partial.replace(path)
