"""Refuses configs that would instantiate anything but aligngym and the libraries it builds on.

Hydra's ``instantiate`` imports and calls whatever a ``_target_`` names, and an override can add
one anywhere (``'+agent.model.hyperparameters.x._target_=builtins.print'``). Before any work
the runner calls :func:`check_targets` on the job's config: every ``_target_``, at any depth
and inside lists, must name a callable of a module whose top-level package is in
:data:`ALLOWED_MODULES`; otherwise :class:`UnsafeTargetError` names the key and the target.

Hydra's own ``hydra.utils.get_class`` / ``get_method`` / ``get_object`` are allowed as targets
(configs use them to pass a class, e.g. ``activation_fn: {_target_: hydra.utils.get_class,
path: torch.nn.ReLU}``), but what they look up (``path``, or their first ``_args_``) must pass
the same allow-list. Under the ``hydra`` node (present in a config composed with
``return_hydra_config=True``) Hydra's plugins and what they build on (:data:`HYDRA_MODULES`)
are allowed too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, ListConfig

# the top-level packages whose callables a config may instantiate: aligngym itself and the
# libraries its agents, environments and oversight modules are built from. Anything else
# (builtins, os, subprocess, ...) is refused, whatever the config or override says.
ALLOWED_MODULES = frozenset(
    {
        "aligngym",
        "stable_baselines3",
        "torch",
        "gymnasium",
        "pettingzoo",
        "transformers",
        "peft",
        "trl",
    }
)
# Hydra helpers that look an object up by name; the name they look up is checked instead
LOOKUP_TARGETS = frozenset(
    {"hydra.utils.get_class", "hydra.utils.get_method", "hydra.utils.get_object"}
)
# what Hydra itself instantiates from its own config node: launchers, sweepers, callbacks, and
# the Optuna sampler of the Optuna sweeper (hydra.sweeper.sampler)
HYDRA_MODULES = frozenset({"hydra", "hydra_plugins", "optuna"})


class UnsafeTargetError(ValueError):
    """A ``_target_`` names a callable outside the allow-list; the message names the key."""


def check_targets(cfg: DictConfig | ListConfig) -> None:
    """Raises :class:`UnsafeTargetError` for the first ``_target_`` outside the allow-list.

    Walks the whole config (nested mappings and lists); interpolations of a ``_target_`` are
    resolved first, and one that cannot be resolved is refused.
    """
    for path, target, node in _targets(cfg, ""):
        allowed = ALLOWED_MODULES | (HYDRA_MODULES if _under_hydra(path) else frozenset())
        if target in LOOKUP_TARGETS:
            looked_up, where = _lookup_name(node, path)
            _check(where, looked_up, ALLOWED_MODULES)
        else:
            _check(path, target, allowed)


def top_module(target: str) -> str:
    """``"torch.nn.ReLU"`` -> ``"torch"``."""
    return target.split(".", 1)[0]


def _check(path: str, target: Any, allowed: frozenset[str]) -> None:
    if isinstance(target, str) and top_module(target.strip()) in allowed:
        return
    raise UnsafeTargetError(
        f"{path}={target!r}: configs may only instantiate classes and functions of "
        f"{', '.join(sorted(allowed))}; {target!r} is not one of them"
    )


def _under_hydra(path: str) -> bool:
    return path == "hydra" or path.startswith(("hydra.", "hydra["))


def _targets(node: Any, path: str, seen: set[int] | None = None) -> Iterator[tuple[str, Any, Any]]:
    """Yields ``(key path of the _target_, its value, the node holding it)`` depth first.

    An interpolation that resolves to a mapping or list (``${oc.create:...}``, ``${agent}``)
    is walked too, each container once, since instantiate would follow it.
    """
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, DictConfig):
        for key in node:
            child_path = f"{path}.{key}" if path else str(key)
            if key == "_target_":
                yield child_path, _resolved(node, key, child_path), node
            else:
                yield from _targets(_child(node, key), child_path, seen)
    elif isinstance(node, ListConfig):
        for index in range(len(node)):
            yield from _targets(_child(node, index), f"{path}[{index}]", seen)


def _child(node: DictConfig | ListConfig, key: Any) -> Any:
    """The child node, or what its interpolation resolves to (None where it does not)."""
    child = node._get_node(key)
    if isinstance(child, (DictConfig, ListConfig)) and not child._is_interpolation():
        return child
    if child is None or not child._is_interpolation():
        return None
    try:
        return node[key]
    except Exception:  # unresolvable here (e.g. ${hydra:...} outside a job): no config inside
        return None


def _resolved(node: DictConfig, key: Any, path: str) -> Any:
    try:
        return node[key]
    except Exception as error:  # an interpolation that does not resolve
        raise UnsafeTargetError(
            f"{path}: the _target_ {node._get_node(key)._value()!r} cannot be resolved "
            f"({error}), so it cannot be checked"
        ) from None


def _lookup_name(node: DictConfig, path: str) -> tuple[Any, str]:
    """The name a ``hydra.utils.get_*`` target looks up, and the key it came from."""
    base = path.rsplit(".", 1)[0]
    if "path" in node:
        return _resolved(node, "path", f"{base}.path"), f"{base}.path"
    args = node.get("_args_") if "_args_" in node else None
    if isinstance(args, ListConfig) and len(args):
        return args[0], f"{base}._args_[0]"
    return None, path
