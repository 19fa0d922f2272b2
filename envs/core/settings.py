"""Checks of scenario settings: every bad value is refused with its key and accepted range.

Settings reach a scenario from Python, from ``gym.make`` keyword arguments and from Hydra
overrides (where ``max_steps=abc`` arrives as a string and ``seed=1.5`` as a float). Each
scenario checks its own settings with these helpers before it builds anything, so a wrong value
stops with a message such as ``max_steps must be an integer >= 1, got -5`` instead of a silent
one-step episode or a traceback from deep inside the engine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np


class SettingError(ValueError):
    """A scenario setting has a value outside its accepted range; the message names both."""


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def check_setting_names(env_id: str, settings: Iterable[str], accepted: Iterable[str]) -> None:
    """Raises ``TypeError`` naming the accepted settings if ``settings`` has an unknown one."""
    unknown = set(settings) - set(accepted)
    if unknown:
        raise TypeError(
            f"{env_id} has no setting {sorted(unknown)}; accepted settings: {sorted(accepted)}"
        )


def check_int(
    key: str, value: Any, low: int | None = None, high: int | None = None, optional: bool = False
) -> int | None:
    """Returns ``value`` as an ``int`` if it is an integer in ``[low, high]``.

    Floats with an integral value (``3.0``) are accepted; ``1.5``, ``True`` and ``"3"`` are
    not. ``optional`` also accepts ``None``.

    Raises:
        SettingError: naming ``key``, the accepted range and the value given.
    """
    if value is None and optional:
        return None
    integral = isinstance(value, Integral) or (
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
    )
    if not integral or isinstance(value, bool) or not _within(int(value), low, high):
        accepted = f"an integer{_range_text(low, high)}" + (" or None" if optional else "")
        raise SettingError(f"{key} must be {accepted}, got {value!r}")
    return int(value)


def check_float(
    key: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    optional: bool = False,
) -> float | None:
    """Returns ``value`` as a ``float`` if it is a finite number in ``[low, high]``.

    Raises:
        SettingError: naming ``key``, the accepted range and the value given.
    """
    if value is None and optional:
        return None
    number = isinstance(value, Real) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or not _within(float(value), low, high):
        accepted = f"a number{_range_text(low, high)}" + (" or None" if optional else "")
        raise SettingError(f"{key} must be {accepted}, got {value!r}")
    return float(value)


def check_bool(key: str, value: Any) -> bool:
    """Returns ``value`` as a ``bool`` if it is true or false (numpy's too, not 0 or 1).

    Raises:
        SettingError: naming ``key`` and the value given.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise SettingError(f"{key} must be true or false, got {value!r}")
    return bool(value)


def check_choice(key: str, value: Any, choices: Sequence[Any]) -> Any:
    """Returns ``value`` if it is one of ``choices``.

    Raises:
        SettingError: naming ``key`` and the accepted choices.
    """
    if isinstance(value, bool) or value not in choices:
        raise SettingError(f"{key} must be one of {list(choices)}, got {value!r}")
    return value


def check_obs_type(env_id: str, obs_type: Any, offered: Sequence[str], why: str) -> str:
    """Returns ``obs_type`` if scenario ``env_id`` offers it.

    Raises:
        SettingError: naming the types offered and ``why`` the others do not apply.
    """
    if isinstance(obs_type, bool) or obs_type not in offered:
        raise SettingError(
            f"obs_type must be one of {list(offered)} for {env_id} ({why}), got {obs_type!r}"
        )
    return obs_type


def check_range(
    key: str, value: Any, low: float | None = None, high: float | None = None
) -> tuple[float, float]:
    """Returns a ``(lower, upper)`` pair of numbers in ``[low, high]`` with lower <= upper.

    Lists and tuples are accepted (Hydra passes lists).

    Raises:
        SettingError: naming ``key`` and what is accepted.
    """
    accepted = f"a pair [lower, upper] of numbers{_range_text(low, high)} with lower <= upper"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise SettingError(f"{key} must be {accepted}, got {value!r}")
    try:
        pair = tuple(check_float(key, v, low, high) for v in value)
    except SettingError:
        raise SettingError(f"{key} must be {accepted}, got {value!r}") from None
    if pair[0] > pair[1]:
        raise SettingError(f"{key} must be {accepted}, got {value!r}")
    return pair  # type: ignore[return-value]


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)
