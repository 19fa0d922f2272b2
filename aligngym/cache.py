"""Where aligngym keeps what it trains once and reuses (the pixel-debate judges).

The folder is ``$ALIGNGYM_CACHE`` if set, else ``$XDG_CACHE_HOME/aligngym``, else
``~/.cache/aligngym``. Files are written atomically, so a job killed mid-write or two jobs of a
sweep training the same thing at once leave a whole file or none.
"""

from __future__ import annotations

import hashlib
import json
import os
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
