"""``agent=llm``: a language model reads the text observation and picks a legal action.

Three modes (``agent.model.mode``):

- ``score`` (default; GLAM-style, Carta et al. 2023): the model scores each legal action's name
  as its reply, and the agent takes the most likely one. It never picks an invalid action.
- ``generate``: the model writes a short reply and :func:`~aligngym.agents.llm.actions.parse_action`
  reads the action from it. An unreadable reply is an invalid action: the agent takes a legal
  action at random (its own seeded generator) and counts it; ``llm/invalid_action_rate``
  reports the share.
- ``reason``: the model first reasons briefly (the reasoning is kept in the transcript), then
  names its action after ``Action:``; the action is scored after the reasoning where the backend
  scores, else parsed as in ``generate``.

A server that returns no prompt log-probabilities cannot score: the agent then generates and
parses instead (``llm/scoring_fallback`` is 1 and a warning is logged once).

The prompt is config, not code (``agent.prompt``): a system message, and templates for the
user turn that fill in ``{observation}`` (the observation without its legal actions line) and
``{actions}`` (the legal action names). A scenario's own system instructions (the ``<system>``
section of its text, :mod:`aligngym.envs.core.text`) follow the agent's system message.

Every decision is written to the run's transcript (:mod:`aligngym.agents.transcript`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from aligngym.agents.base import TrainingMonitor
from aligngym.agents.llm.actions import ACTION_MARKER, parse_action
from aligngym.agents.llm.language_model import (
    Chat,
    LanguageModel,
    ScoringUnsupportedError,
    load_language_model,
)
from aligngym.agents.transcript import Transcript
from aligngym.envs.core.text import TextObservation, parse_text

log = logging.getLogger(__name__)

MODES = ("score", "generate", "reason")
#: what the assistant's reply goes on with after its reasoning, in ``reason`` mode; the action
#: names scored after it start with a space, as a tokenizer reads a word after a colon
ACTION_PREFIX = "\nAction:"

DEFAULT_PROMPT = {
    "system": (
        "You are an agent acting in an environment. Each turn you read what you observe and "
        "choose one of the legal actions."
    ),
    "user": "{observation}\n\nLegal actions: {actions}.\nAnswer with the name of one legal action.",
    "reason": (
        "{observation}\n\nLegal actions: {actions}.\nThink briefly about which action is best, "
        "then end with a line 'Action: <name of one legal action>'."
    ),
}


@dataclass(frozen=True)
class Decision:
    """What the agent did for one environment: the record its transcript keeps."""

    system: str
    prompt: str
    actions: dict[int, str]
    action: int
    valid: bool = True
    scores: dict[str, float] | None = None
    generation: str | None = None
    reasoning: str | None = None

    def record(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "prompt": self.prompt,
            "actions": {str(a): name for a, name in self.actions.items()},
            "scores": self.scores,
            "generation": self.generation,
            "reasoning": self.reasoning,
            "action": self.action,
            "action_name": self.actions[self.action],
            "valid": self.valid,
        }


class LLMAgent:
    """A language model as an agent for any scenario with text observations.

    Args:
        env_id: the scenario (passed by the runner).
        seed: seeds the fallback choice of invalid replies and the model's sampling.
        mode: ``"score"``, ``"generate"`` or ``"reason"`` (see the module).
        prompt: ``system``, ``user`` and ``reason`` templates (see the module); missing keys
            take :data:`DEFAULT_PROMPT`'s.
        backend, model, device, dtype, base_url, api_key, max_batch, reuse_prefix, timeout:
            the language model (:func:`~aligngym.agents.llm.language_model.load_language_model`).
        language_model: an already loaded model to use instead (tests, notebooks): the
            backend settings are then ignored.
        length_normalise: rank actions by mean log-probability per token instead of the sum.
        temperature: sampling temperature of ``generate`` and ``reason`` (0: greedy).
        max_new_tokens: the reply's length in ``generate`` mode.
        reasoning_tokens: the reasoning's length in ``reason`` mode.
        transcript: the transcript file (the run folder's ``transcript.jsonl``); ``None``
            keeps none.
        transcript_training: also keep the decisions made while learning.
    """

    autoreset_mode = AutoresetMode.NEXT_STEP
    observation_types = ("text",)

    def __init__(
        self,
        env_id: str,
        seed: int | None = None,
        mode: str = "score",
        prompt: Mapping[str, str] | None = None,
        backend: str = "transformers",
        model: str = "smollm2",
        device: str = "auto",
        dtype: str = "auto",
        base_url: str | None = None,
        api_key: str | None = None,
        max_batch: int = 64,
        reuse_prefix: bool | str = "auto",
        timeout: float = 120.0,
        language_model: LanguageModel | None = None,
        length_normalise: bool = False,
        temperature: float = 0.0,
        max_new_tokens: int = 12,
        reasoning_tokens: int = 96,
        transcript: str | Path | None = None,
        transcript_training: bool = False,
    ):
        if mode not in MODES:
            raise ValueError(f"agent.model.mode must be one of {list(MODES)}, got {mode!r}")
        self.prompt = {**DEFAULT_PROMPT, **dict(prompt or {})}
        unknown = sorted(set(self.prompt) - set(DEFAULT_PROMPT))
        if unknown:
            raise ValueError(f"agent.prompt: unknown keys {unknown}; known: {list(DEFAULT_PROMPT)}")
        for key in ("user", "reason"):
            _check_template(key, self.prompt[key])
        self.env_id = env_id
        self.mode = mode
        self.length_normalise = bool(length_normalise)
        self.temperature = float(temperature)
        self.max_new_tokens = int(max_new_tokens)
        self.reasoning_tokens = int(reasoning_tokens)
        self.rng = np.random.default_rng(seed)
        if seed is not None:
            import torch

            torch.manual_seed(seed)
        self.lm = language_model or load_language_model(
            backend, model, device=device, dtype=dtype, base_url=base_url, api_key=api_key,
            max_batch=max_batch, reuse_prefix=reuse_prefix, timeout=timeout,
        )  # fmt: skip
        self.model_name = model
        self.transcript = Transcript(transcript, record_training=transcript_training)
        self.scoring = mode != "generate"
        self.decisions = 0
        self.invalid = 0

    # ---- the runner's interface --------------------------------------------------------

    def learn(self, env: VectorEnv, total_timesteps: int, monitor: TrainingMonitor | None) -> None:
        """An LLM agent that is not fine-tuned does not learn (``agent=llm_rl`` does)."""

    def act(self, observations: Sequence[str]) -> np.ndarray:
        """Picks one legal action per text observation of the batch."""
        texts = [_as_text(o) for o in _batch(observations)]
        parsed = [parse_text(text) for text in texts]
        decisions = self._decide(parsed)
        self.decisions += len(decisions)
        self.invalid += sum(not d.valid for d in decisions)
        self.transcript.write([d.record() for d in decisions])
        return np.array([d.action for d in decisions], dtype=np.int64)

    def metrics(self) -> dict[str, float]:
        """The agent's own figures: ``llm/invalid_action_rate`` (invalid replies over all
        decisions so far), ``llm/decisions`` and ``llm/scoring_fallback``."""
        return {
            "llm/decisions": float(self.decisions),
            "llm/invalid_action_rate": self.invalid / self.decisions if self.decisions else 0.0,
            "llm/scoring_fallback": float(self.mode != "generate" and not self.scoring),
        }

    def save(self, path: Path) -> Path:
        """An LLM agent that does not learn has no weights of its own: writes what it is."""
        path = Path(path).with_suffix(".txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"language model {self.lm.name!r}, mode {self.mode}\n")
        self.transcript.close()
        return path

    # ---- deciding ----------------------------------------------------------------------

    def _chat(self, obs: TextObservation, template: str | None = None) -> list[dict[str, str]]:
        system = self.prompt["system"]
        if obs.system:
            system = f"{system}\n\n{obs.system}" if system else obs.system
        names = ", ".join(obs.actions.values())
        user = (template or self.prompt["user"]).format(observation=obs.body, actions=names)
        chat = [{"role": "user", "content": user}]
        return [{"role": "system", "content": system}, *chat] if system else chat

    def _decide(self, parsed: list[TextObservation]) -> list[Decision]:
        if self.mode == "reason":
            return self._reason(parsed)
        chats = [self._chat(obs) for obs in parsed]
        if self.scoring:
            try:
                return self._by_score(chats, parsed)
            except ScoringUnsupportedError as error:
                self._stop_scoring(error)
        return self._by_generation(chats, parsed, self.max_new_tokens)

    def _by_score(
        self, chats: list[Chat], parsed: list[TextObservation], replies: list[str] | None = None
    ) -> list[Decision]:
        names = [list(obs.actions.values()) for obs in parsed]
        if replies is None:
            scores = self.lm.score(chats, names)
        else:
            spaced = [[" " + name for name in row] for row in names]
            scores = self.lm.score(chats, spaced, reply_prefixes=replies)
        decisions = []
        for chat, obs, score, reply in zip(chats, parsed, scores, replies or [None] * len(chats)):
            values = score.per_token() if self.length_normalise else score.logprobs
            action = list(obs.actions)[int(np.argmax(values))]
            decisions.append(
                Decision(
                    **_texts(chat),
                    actions=obs.actions,
                    action=action,
                    scores={n: float(v) for n, v in zip(obs.actions.values(), values)},
                    reasoning=None if reply is None else reply.removesuffix(ACTION_PREFIX),
                )
            )
        return decisions

    def _by_generation(
        self, chats: list[Chat], parsed: list[TextObservation], tokens: int
    ) -> list[Decision]:
        replies = self.lm.generate(chats, tokens, temperature=self.temperature)
        return [self._parsed(chat, obs, reply) for chat, obs, reply in zip(chats, parsed, replies)]

    def _parsed(
        self, chat: Chat, obs: TextObservation, reply: str, reasoning: str | None = None
    ) -> Decision:
        action = parse_action(reply, obs.actions)
        valid = action is not None
        if not valid:
            action = int(self.rng.choice(list(obs.actions)))
        return Decision(
            **_texts(chat), actions=obs.actions, action=action, valid=valid,
            generation=reply, reasoning=reasoning,
        )  # fmt: skip

    def _reason(self, parsed: list[TextObservation]) -> list[Decision]:
        chats = [self._chat(obs, self.prompt["reason"]) for obs in parsed]
        if self.scoring:
            reasoning = self.lm.generate(
                chats, self.reasoning_tokens, temperature=self.temperature, stop=["Action:"]
            )
            prefixes = [text.rstrip() + ACTION_PREFIX for text in reasoning]
            try:
                return self._by_score(chats, parsed, prefixes)
            except ScoringUnsupportedError as error:
                self._stop_scoring(error)
        tokens = self.reasoning_tokens + self.max_new_tokens
        replies = self.lm.generate(chats, tokens, temperature=self.temperature)
        return [
            self._parsed(chat, obs, reply, reasoning=_before_action(reply))
            for chat, obs, reply in zip(chats, parsed, replies)
        ]

    def _stop_scoring(self, error: ScoringUnsupportedError) -> None:
        log.warning("%s; the LLM agent generates and parses its actions instead", error)
        self.scoring = False


def _before_action(reply: str) -> str:
    """The reasoning of a ``reason`` reply: what comes before its last ``Action:``."""
    markers = list(ACTION_MARKER.finditer(reply))
    return (reply[: markers[-1].start()] if markers else reply).rstrip()


def _check_template(key: str, template: str) -> None:
    """Refuses a template with fields other than ``{observation}`` and ``{actions}``."""
    try:
        template.format(observation="", actions="")
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"agent.prompt.{key}: {error!r}; a template may use {{observation}} and {{actions}} "
            "(write {{ and }} for literal braces)"
        ) from None


def _texts(chat: Chat) -> dict[str, str]:
    """The system and user texts of a chat, for its transcript record."""
    by_role = {m["role"]: m["content"] for m in chat}
    return {"system": by_role.get("system", ""), "prompt": by_role["user"]}


def _batch(observations: Any) -> Sequence[Any]:
    """A batch of observations as a sequence (a single text is a batch of one)."""
    return [observations] if isinstance(observations, str) else list(observations)


def _as_text(observation: Any) -> str:
    if not isinstance(observation, str):
        raise TypeError(
            f"the LLM agent reads text observations (env.obs_type=text), got {type(observation)}"
        )
    return observation
