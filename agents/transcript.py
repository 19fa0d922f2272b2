"""Transcripts: every decision a language-model agent makes, one JSON line each.

A run's ``transcript.jsonl`` holds one record per environment per decision, in the order they
were made. Each record carries a ``label`` saying what the decision was part of (``train``, or
``eval/<setting>@<timesteps>`` for an evaluation), the decision's ``step`` within that part, the
environment's index ``env`` in its batch, and what the agent saw and did (for the LLM agent:
``system``, ``prompt``, ``actions``, ``scores``, ``generation``, ``reasoning``, ``action``,
``action_name``, ``valid``). Records are written as they are made and flushed, so an
interrupted run keeps every decision up to the signal.

:func:`episode_excerpt` turns one environment's records of one part into readable Markdown:
what the run folder (``transcript.md``) and the report show of a text scenario instead of a GIF.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class KeepsTranscript(Protocol):
    """An agent that writes a transcript of its decisions; the runner labels its parts."""

    transcript: Transcript


class Transcript:
    """Appends decision records to a JSON-lines file.

    Args:
        path: the file (its folder is created); ``None`` keeps no file, only the counters.
        record_training: keep the decisions made while learning too (a long fine-tuning run
            makes many); evaluation decisions are always kept.

    Attributes:
        label: the part the next records belong to (set it with :meth:`start`).
    """

    def __init__(self, path: str | Path | None, record_training: bool = False):
        self.path = None if path is None else Path(path)
        self.record_training = record_training
        self.label = "train"
        self.step = 0
        self._file = None

    def start(self, label: str) -> None:
        """Labels the records that follow ``label`` and counts their steps from 0."""
        self.label = label
        self.step = 0

    @property
    def recording(self) -> bool:
        """Whether decisions made now are written."""
        return self.path is not None and (self.record_training or self.label != "train")

    def write(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Writes one decision step: a record per environment, in environment order."""
        if self.recording:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            for env, record in enumerate(records):
                row = {"label": self.label, "step": self.step, "env": env, **record}
                self._file.write(json.dumps(row, ensure_ascii=False) + "\n")
            self._file.flush()
        self.step += 1

    def close(self) -> None:
        """Closes the file; a later :meth:`write` opens it again for appending."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read_transcript(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a transcript file, skipping a last line cut short by a crash."""
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def last_label(records: Sequence[Mapping[str, Any]], prefix: str) -> str | None:
    """The last label that starts with ``prefix`` (``"eval/test@"``: the final test
    evaluation), or ``None``."""
    labels = [r["label"] for r in records if str(r.get("label", "")).startswith(prefix)]
    return labels[-1] if labels else None


def episode_excerpt(
    records: Sequence[Mapping[str, Any]], label: str, env: int = 0, max_steps: int = 12
) -> str:
    """Markdown of environment ``env``'s first ``max_steps`` decisions under ``label``."""
    steps = [r for r in records if r.get("label") == label and r.get("env") == env]
    lines = [f"### {label}, environment {env}: {len(steps)} decisions"]
    if steps and steps[0].get("system"):
        lines += ["", "**System:**", "", _quote(steps[0]["system"])]
    for record in steps[:max_steps]:
        lines += ["", f"**Step {record['step']}**", "", _quote(record.get("prompt", ""))]
        if record.get("reasoning"):
            lines += ["", f"Reasoning: {record['reasoning'].strip()}"]
        if record.get("generation") is not None:
            lines += ["", f"Generated: `{record['generation'].strip()}`"]
        if record.get("scores"):
            ranked = sorted(record["scores"].items(), key=lambda item: -item[1])
            lines += ["", "Scores: " + ", ".join(f"{name} {value:.2f}" for name, value in ranked)]
        valid = "" if record.get("valid", True) else " (invalid output: fallback)"
        lines += ["", f"**Action: {record.get('action_name')}**{valid}"]
    if len(steps) > max_steps:
        lines += ["", f"... {len(steps) - max_steps} more decisions in transcript.jsonl"]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in str(text).splitlines())
