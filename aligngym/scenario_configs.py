"""Every scenario's settings as Hydra configs, generated from the scenario records.

The card and the scenario's constructor are the single source of its settings. At start the
Hydra app stores, for every registered scenario, a config ``scenario/<config_name>`` holding its
``id``, ``obs_type: null`` (the runner then takes the first observation type the scenario offers
that the agent reads: ``text`` for a language-model agent) and its ``train`` and ``test``
settings with *every* setting present (its default, overridden by the card's named setting).
An env config then only names the scenario and what it changes::

    # conf/env/boat_race.yaml
    defaults:
      - /scenario/boat_race@_here_
      - _self_
    name: boat_race

so that ``env.train.max_steps=50`` overrides a setting without a ``+``, and a misspelt one
(``env.train.max_step=50``) is refused by Hydra before any work.
"""

from __future__ import annotations

from typing import Any

from hydra.core.config_store import ConfigStore

from aligngym.envs.registry import SCENARIOS


def scenario_node(env_id: str) -> dict[str, Any]:
    """The config of one scenario: ``id``, ``obs_type`` (unset), and full ``train``/``test``
    settings."""
    record = SCENARIOS[env_id]
    return {
        "id": record.id,
        "obs_type": None,
        "train": _plain(record.named_settings("train")),
        "test": _plain(record.named_settings("test")),
    }


def store_scenario_configs() -> None:
    """Stores ``scenario/<config_name>`` in Hydra's ConfigStore for every scenario."""
    store = ConfigStore.instance()
    for env_id, record in SCENARIOS.items():
        store.store(group="scenario", name=record.config_name, node=scenario_node(env_id))


def _plain(settings: dict[str, Any]) -> dict[str, Any]:
    """Tuples become lists (what OmegaConf holds)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
