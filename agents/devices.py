"""The torch device a learner runs on, from the ``agent.model.device`` setting."""

from __future__ import annotations

import torch


def resolve_device(device: str) -> torch.device:
    """``"auto"``: CUDA when torch sees a GPU, else the CPU; any other torch device name as is.

    Raises:
        ValueError: for a device torch does not know, or CUDA asked for where there is none.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"device: {error}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}, but torch sees no CUDA GPU; use device=auto or cpu")
    return resolved
