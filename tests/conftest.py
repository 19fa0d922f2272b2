"""Fixtures shared by the tests: Hydra's configs composed as ``aligngym run`` does, and one
torch thread for the tests that train small networks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra

CONF = Path(__file__).resolve().parent.parent / "conf"


@pytest.fixture
def hydra_conf():
    """Hydra initialised on ``aligngym.conf``, as ``aligngym run`` is; ``compose`` works."""
    import aligngym.app  # noqa: F401 (as in `aligngym run`: stores the configs env/ extends)

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="aligngym.conf", version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def config_options(group: str) -> list[str]:
    """The options of a config group shipped under conf/, e.g. ``experiment``."""
    root = CONF / group
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


@pytest.fixture
def one_torch_thread():
    """Small MLPs train fastest on one thread, above all on a machine shared by test workers."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
