"""Checks of a run's config before any work, and the parts built from it.

:func:`validate` turns a job's config into a :class:`RunSpec` or stops with a
:class:`SetupError` that says what was wrong and what is accepted; :func:`build_agent` and
:func:`build_oversight` instantiate the agent and the oversight module the same way. Nothing
here writes a file or starts training.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig

from aligngym.agents.base import RUNNER_ARGUMENTS, Agent
from aligngym.agents.hyperparameters import plain
from aligngym.config_safety import check_targets
from aligngym.envs.core.settings import SettingError, check_int
from aligngym.envs.registry import SCENARIOS, UnknownScenarioError, make, scenario
from aligngym.oversight.base import OversightModule
from aligngym.oversight.debate.judges import Judge

SETTINGS = ("train", "test")
PROGRESS = ("auto", "bar", "log")
#: an oversight module's roles in gap recovered
ROLES = ("floor", "ceiling", "method")
KIND_NAMES = {"single": "single-agent", "multi": "multi-agent (debate)", "dataset": "dataset"}
KIND_HINTS = {
    "single": "agents such as agent=ppo, oversight such as oversight=none",
    "multi": "debaters such as agent=greedy_debater, protocols such as oversight=debate",
    "dataset": "generators such as agent=noisy_solver with selectors such as oversight=process_rm, "
    "or students such as agent=pretrained_student with oversight=weak_to_strong",
}


class SetupError(ValueError):
    """Bad input found before any work starts: the message says what is accepted."""


@dataclass(frozen=True)
class RunSpec:
    """The validated parts of a run's config that the loop uses."""

    env_id: str
    kind: str
    obs_type: str
    settings: dict[str, dict[str, Any]]
    seed: int
    timesteps: int
    n_envs: int
    eval_every: int
    eval_episodes: int
    eval_seed: int
    window: int

    def setting(self, name: str) -> dict[str, Any]:
        """The keyword arguments of setting ``name``, with the observation type."""
        return {**self.settings[name], "obs_type": self.obs_type}


def validate(cfg: DictConfig) -> RunSpec:
    """Checks targets, scenario, settings, seeds and budgets; raises :class:`SetupError`."""
    try:
        check_targets(cfg)
    except ValueError as error:
        raise SetupError(str(error)) from None
    env_id = cfg.env.id
    try:
        record = scenario(env_id)
    except UnknownScenarioError as error:
        raise SetupError(str(error)) from None
    obs_type = cfg.env.get("obs_type") or _default_obs_type(cfg, record.obs_types)
    if obs_type not in record.obs_types:
        raise SetupError(
            f"env.obs_type: {env_id} offers {list(record.obs_types)}, got {obs_type!r}"
        )
    settings = {name: plain(cfg.env.get(name)) for name in SETTINGS}
    for name, kwargs in settings.items():
        try:
            make(env_id, obs_type=obs_type, **kwargs).close()  # refuses bad names and values
        except (TypeError, ValueError) as error:
            raise SetupError(f"env.{name}: {error}") from None
    numbers = {
        "seed": (cfg.seed, 0),
        "train.timesteps": (cfg.train.timesteps, 0),
        "eval.every": (cfg.eval.every, 0),
        "eval.episodes": (cfg.eval.episodes, 1),
        "eval.seed_offset": (cfg.eval.seed_offset, 0),
        "eval.window": (cfg.eval.window, 1),
        "agent.n_envs": (cfg.agent.n_envs, 1),
    }
    for key, (value, least) in numbers.items():
        try:
            check_int(key, value, least)
        except SettingError as error:
            raise SetupError(str(error)) from None
    _validate_output(cfg)
    return RunSpec(
        env_id=env_id,
        kind=record.kind,
        obs_type=obs_type,
        settings=settings,
        seed=int(cfg.seed),
        timesteps=int(cfg.train.timesteps),
        n_envs=int(cfg.agent.n_envs),
        eval_every=int(cfg.eval.every),
        eval_episodes=int(cfg.eval.episodes),
        eval_seed=int(cfg.seed) + int(cfg.eval.seed_offset),
        window=int(cfg.eval.window),
    )


def _default_obs_type(cfg: DictConfig, offered: Sequence[str]) -> str:
    """The observation type a run uses when ``env.obs_type`` is not set: the first the scenario
    offers that the agent reads (a language-model agent gets ``text``, a CNN ``rgb`` only
    where it asks for it), else the scenario's first."""
    try:
        readable = getattr(get_class(cfg.agent.model.get("_target_")), "observation_types", ())
    except Exception:  # noqa: BLE001 (build_agent reports a target that cannot be loaded)
        readable = ()
    return next((obs_type for obs_type in offered if obs_type in readable), offered[0])


def _validate_output(cfg: DictConfig) -> None:
    """Refuses video and progress settings that would fail only after training."""
    if not isinstance(cfg.video.enabled, bool):
        raise SetupError(f"video.enabled must be true or false, got {cfg.video.enabled!r}")
    fps = cfg.video.fps
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
        raise SetupError(f"video.fps must be a number > 0, got {fps!r}")
    if cfg.get("progress", "auto") not in PROGRESS:
        raise SetupError(f"progress must be one of {list(PROGRESS)}, got {cfg.progress!r}")


def build_agent(cfg: DictConfig, spec: RunSpec) -> Agent:
    """Instantiates ``cfg.agent.model`` with the runner's arguments; raises :class:`SetupError`
    for a bad agent config (unknown algorithm, a checkpoint that does not fit, ...)."""
    target = cfg.agent.model.get("_target_")
    try:
        parameters = inspect.signature(get_class(target)).parameters
    except Exception as error:  # noqa: BLE001 (any import or lookup problem of the target)
        raise SetupError(f"agent.model._target_={target!r} cannot be loaded: {error}") from None
    _check_kind(f"agent {cfg.agent.get('name')}", get_class(target), spec)
    missing = [name for name in RUNNER_ARGUMENTS if name not in parameters]
    if missing:
        raise SetupError(
            f"agent {target} must accept the runner's arguments {list(RUNNER_ARGUMENTS)}; "
            f"it lacks {missing}"
        )
    agent = _instantiate("agent.model", cfg.agent.model, env_id=spec.env_id, seed=spec.seed)
    readable = getattr(agent, "observation_types", (spec.obs_type,))
    if spec.obs_type not in readable:
        raise SetupError(
            f"agent {cfg.agent.get('name')} reads observation types {list(readable)}, not "
            f"env.obs_type={spec.obs_type!r}"
        )
    resumed = int(getattr(agent, "resumed_timesteps", 0))
    if resumed > spec.timesteps:
        raise SetupError(
            f"agent.model.resume_from: the checkpoint has trained {resumed} timesteps, more "
            f"than train.timesteps={spec.timesteps}; resume with train.timesteps >= {resumed}"
        )
    return agent


def build_oversight(cfg: DictConfig, spec: RunSpec) -> OversightModule:
    """Instantiates ``cfg.oversight.module``; raises :class:`SetupError` if it is not one,
    oversees another kind of scenario than ``spec``'s, or has settings that do not fit it.

    ``cfg.oversight.role``, where a config sets it, overrides the module's role in gap
    recovered (``floor``, ``ceiling`` or ``method``): the preferences module with the oracle
    labeller is the ceiling against which a weak labeller's gap recovered is measured."""
    module = _instantiate("oversight.module", cfg.oversight.module)
    if not isinstance(module, OversightModule):
        raise SetupError(
            f"oversight.module must build an aligngym.oversight.OversightModule, got "
            f"{type(module).__name__}"
        )
    _check_kind(f"oversight={cfg.oversight.get('name')}", type(module), spec)
    try:
        module.check_scenario(spec.env_id)
    except ValueError as error:
        raise SetupError(f"oversight={cfg.oversight.get('name')}: {error}") from None
    role = cfg.oversight.get("role")
    if role is not None:
        if role not in ROLES:
            raise SetupError(f"oversight.role must be one of {list(ROLES)}, got {role!r}")
        module.role = role
    return module


def build_judge(cfg: DictConfig, spec: RunSpec, full_information: bool) -> Judge:
    """Instantiates ``cfg.judge.model`` for a debate scenario with the runner's arguments
    (:data:`~aligngym.oversight.debate.judges.JUDGE_ARGUMENTS`); raises :class:`SetupError`
    where none is configured or it cannot judge the scenario."""
    node = cfg.get("judge", {}).get("model")
    if node is None:
        raise SetupError(f"{spec.env_id} is a debate: choose a judge (judge=<name>)")
    try:
        judge_class = get_class(node.get("_target_"))
    except Exception as error:  # noqa: BLE001 (any import or lookup problem of the target)
        raise SetupError(f"judge.model._target_ cannot be loaded: {error}") from None
    if not issubclass(judge_class, Judge) or spec.env_id not in judge_class.scenarios:
        judges = getattr(judge_class, "scenarios", ())
        raise SetupError(f"judge={cfg.judge.get('name')} judges {list(judges)}, not {spec.env_id}")
    return _instantiate(
        "judge.model", node, env_id=spec.env_id, settings=spec.setting("train"),
        full_information=full_information, seed=spec.seed,
    )  # fmt: skip


def _check_kind(what: str, cls: type, spec: RunSpec) -> None:
    """Refuses an agent or oversight module made for the other kind of scenario, or (where it
    declares a ``task_type``, a :class:`~aligngym.envs.core.task.Task` subclass) for other
    supervision tasks."""
    kind = getattr(cls, "scenario_kind", "single")
    if kind != spec.kind:
        plays = KIND_NAMES[kind]
        raise SetupError(
            f"{what} is for {plays} scenarios; {spec.env_id} is a {KIND_NAMES[spec.kind]} "
            f"scenario ({KIND_HINTS[spec.kind]})"
        )
    task_type = getattr(cls, "task_type", None)
    if task_type is not None and not issubclass(scenario(spec.env_id).env_class, task_type):
        fitting = [s.card.id for s in SCENARIOS.values() if issubclass(s.env_class, task_type)]
        raise SetupError(f"{what} works on {sorted(fitting)}, not {spec.env_id}")


def _instantiate(key: str, node: DictConfig, **kwargs: Any) -> Any:
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as error:
        cause = error.__cause__ or error
        raise SetupError(f"{key}: {cause}") from None
    except (TypeError, ValueError, KeyError, FileNotFoundError) as error:
        raise SetupError(f"{key}: {error}") from None
