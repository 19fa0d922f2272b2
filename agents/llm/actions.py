"""Reading a legal action out of what a language model wrote.

:func:`parse_action` reads, in this order, and stops at the first rule that finds one:

1. only the text after the last ``Action:`` if there is one (what ``reason`` mode asks for);
2. the whole answer, stripped of spaces, quotes and a final full stop, equal to a legal
   action's name (case ignored);
3. the earliest legal action name that appears as a whole word (the longest where two start at
   the same place: ``go_left`` before ``go``);
4. a legal action's id alone, or as ``<id>=<name>``.

Anything else is an invalid action: the caller counts it and falls back (the LLM agent picks a
legal action at random from its own seeded generator; ``llm/invalid_action_rate`` reports how
often).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ACTION_MARKER = re.compile(r"action\s*:", re.IGNORECASE)
_ID = re.compile(r"^\s*(\d+)\s*(?:=\s*\S+)?\s*\.?\s*$")


def parse_action(text: str, actions: Mapping[int, str]) -> int | None:
    """The legal action ``text`` names (see the module for the rules), or ``None``."""
    markers = list(ACTION_MARKER.finditer(text))
    answer = text[markers[-1].end() :] if markers else text
    cleaned = answer.strip().strip("`'\"*").rstrip(".").strip().lower()
    by_name = {name.lower(): action for action, name in actions.items()}
    if cleaned in by_name:
        return by_name[cleaned]
    found = []
    for name, action in by_name.items():
        match = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", answer, re.IGNORECASE)
        if match:
            found.append((match.start(), -len(name), action))
    if found:
        return min(found)[2]
    number = _ID.match(answer)
    if number and int(number.group(1)) in actions:
        return int(number.group(1))
    return None
