"""The text observation's conventions: what a reader of ``obs_type="text"`` can rely on.

Every text observation names the actions it allows on one line::

    Legal actions: 0=up, 1=right, 2=down, 3=left.

The numbers are the action ids of the scenario's ``Discrete`` action space; the names are what
a language-model agent scores or generates. A scenario whose legal actions change with the state
lists only those allowed now.

A scenario may also address the agent's system instructions (the shutdown scenario's
allow-shutdown instruction, say). It puts them first, between ``<system>`` and ``</system>``
lines; an LLM agent moves them into its system message after its own, and any other reader sees
them as text.

:func:`compose_text` writes an observation under these rules and :func:`parse_text` reads one
back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LEGAL_ACTIONS_PREFIX = "Legal actions: "
SYSTEM_OPEN, SYSTEM_CLOSE = "<system>", "</system>"
_LEGAL_LINE = re.compile(rf"^{LEGAL_ACTIONS_PREFIX}(.*?)\.?$", re.MULTILINE)
_ACTION = re.compile(r"^\s*(\d+)=(\S(?:.*\S)?)\s*$")


class TextObservationError(ValueError):
    """A text observation that does not follow this module's conventions."""


def legal_actions_line(actions: Mapping[int, str] | Sequence[str]) -> str:
    """The ``Legal actions: 0=name, ...`` line for ``actions`` (names by id, or a sequence of
    names whose ids are their positions)."""
    named = actions.items() if isinstance(actions, Mapping) else enumerate(actions)
    return LEGAL_ACTIONS_PREFIX + ", ".join(f"{a}={name}" for a, name in named) + "."


def compose_text(
    lines: Sequence[str],
    actions: Mapping[int, str] | Sequence[str],
    system: str | None = None,
    after: Sequence[str] = (),
) -> str:
    """A text observation: ``system`` instructions (if any), ``lines``, the legal actions line,
    then ``after`` (an outcome shown once the episode ended, say)."""
    parts = [SYSTEM_OPEN, system, SYSTEM_CLOSE] if system else []
    return "\n".join([*parts, *lines, legal_actions_line(actions), *after])


@dataclass(frozen=True)
class TextObservation:
    """A text observation read back by :func:`parse_text`.

    Attributes:
        system: the scenario's system instructions, or ``None``.
        body: the rest of the text without the legal actions line.
        actions: the legal actions, name by action id, in the order listed.
    """

    system: str | None
    body: str
    actions: dict[int, str]


def parse_text(text: str) -> TextObservation:
    """Reads ``text`` under this module's conventions.

    Raises:
        TextObservationError: no legal actions line, or one that does not read
            ``Legal actions: <id>=<name>, ...``.
    """
    system = None
    if text.startswith(SYSTEM_OPEN + "\n"):
        end = text.find("\n" + SYSTEM_CLOSE, len(SYSTEM_OPEN))
        if end < 0:
            raise TextObservationError(f"{SYSTEM_OPEN} without {SYSTEM_CLOSE} in {text[:80]!r}")
        system = text[len(SYSTEM_OPEN) + 1 : end]
        text = text[end + len(SYSTEM_CLOSE) + 2 :]
    match = _LEGAL_LINE.search(text)
    if match is None:
        raise TextObservationError(f"no {LEGAL_ACTIONS_PREFIX!r} line in {text[:80]!r}...")
    actions = {}
    for item in match.group(1).split(","):
        parsed = _ACTION.match(item)
        if parsed is None:
            raise TextObservationError(
                f"cannot read {item!r} in {match.group(0)!r}: expected <id>=<name>"
            )
        actions[int(parsed.group(1))] = parsed.group(2)
    body = (text[: match.start()] + text[match.end() + 1 :]).strip("\n")
    return TextObservation(system, body, actions)
