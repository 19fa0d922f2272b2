"""Scenario records: what the registry holds about each scenario, whatever its engine."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aligngym.envs.core.card import ScenarioCard
from aligngym.envs.core.settings import check_setting_names

#: keyword arguments every scenario takes besides its settings
COMMON_ARGUMENTS = ("render_mode", "obs_type")
#: how each kind of scenario reads in messages
KIND_TEXT = {
    "single": "single-agent (Gymnasium)",
    "multi": "multi-agent (PettingZoo)",
    "dataset": "dataset (supervision task)",
}


@dataclass(frozen=True)
class Scenario:
    """One registered scenario.

    Attributes:
        card: what the scenario rewards, what it truly wants, its events and named settings.
        env_class: the environment class (a ``gymnasium.Env``, or a PettingZoo env for the
            multi-agent kind).
        kind: ``"single"`` (Gymnasium), ``"multi"`` (PettingZoo) or ``"dataset"`` (a
            supervision task, :class:`~aligngym.envs.core.task.Task`).
        parameters: every setting the scenario accepts, with its default.
        obs_types: the observation types it offers (the first is its default).
        vector_class: its native batched vector env, if it has one (grid scenarios); other
            single-agent scenarios are vectorised by Gymnasium's ``SyncVectorEnv``.
        overseer_arguments: constructor arguments that the oversight module sets, not the
            scenario's settings (a debate's ``protocol``).
    """

    card: ScenarioCard
    env_class: type
    kind: Literal["single", "multi", "dataset"]
    parameters: Mapping[str, Any]
    obs_types: tuple[str, ...]
    vector_class: Callable[..., Any] | None = None
    overseer_arguments: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The registered id, ``aligngym/<Name>-v<k>``."""
        return self.card.id

    @property
    def config_name(self) -> str:
        """The scenario's Hydra config name: ``aligngym/BoatRace-v0`` -> ``boat_race``; an
        acronym stays one word (``SycophancyQA`` -> ``sycophancy_qa``)."""
        name = self.card.id.split("/")[-1].rsplit("-v", 1)[0]
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()

    def check_settings(self, settings: Mapping[str, Any]) -> None:
        """Raises ``TypeError`` naming the accepted settings if one of ``settings`` is unknown
        (the common arguments, ``render_mode`` and ``obs_type``, aside)."""
        names = [
            name for name in settings if name not in (*COMMON_ARGUMENTS, *self.overseer_arguments)
        ]
        check_setting_names(self.id, names, self.parameters)

    def format(self) -> str:
        """The card as text, then every setting with its default and the observation types."""
        defaults = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items()) or "none"
        kind = KIND_TEXT[self.kind]
        return "\n".join(
            [
                self.card.format(),
                f"  settings:      {defaults}",
                f"  observations:  {', '.join(self.obs_types)}; {kind}; "
                f"config env={self.config_name}",
            ]
        )

    def named_settings(self, name: str) -> dict[str, Any]:
        """Every parameter's value in the card's named setting ``name`` (``train``, ``test``)."""
        return {**self.parameters, **self.card.settings.get(name, {})}


def signature_parameters(function: Callable[..., Any], skip: tuple[str, ...] = ()) -> dict:
    """The keyword parameters of ``function`` and their defaults, without ``skip`` and the
    common arguments; a parameter without a default is reported with ``None``."""
    parameters = inspect.signature(function).parameters.values()
    return {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in parameters
        if p.name not in (*skip, *COMMON_ARGUMENTS, "self")
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
