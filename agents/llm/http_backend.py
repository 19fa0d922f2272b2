"""The OpenAI-compatible HTTP backend of the language-model interface.

Generation uses the chat completions endpoint that every OpenAI-compatible server offers (vLLM,
llama.cpp's ``llama-server``, Ollama, ``aligngym serve``); the server applies the model's chat
template.

Scoring needs the log-probabilities of the reply's tokens given the chat, which the standard
API does not return. vLLM's extensions of chat completions do (``continue_final_message``,
``add_generation_prompt`` and ``prompt_logprobs``), and ``aligngym serve`` implements the same.
For each chat the backend sends the chat with the reply's start as an open assistant message
(its token count fixes where the reply begins), then the chat with each whole reply, and sums
the log-probabilities of the tokens past that point. A server that ignores or refuses the
extensions (llama.cpp, Ollama, OpenAI's own API) returns no prompt log-probabilities: the
backend raises :class:`~aligngym.agents.llm.language_model.ScoringUnsupportedError` and the LLM
agent falls back to generating and parsing.

Requests go out concurrently (``concurrency`` at once): vLLM batches concurrent requests on its
side; ``aligngym serve`` queues them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from aligngym.agents.llm.language_model import (
    LLM_EXTRA,
    Chat,
    EmbeddingUnsupportedError,
    LanguageModel,
    Scores,
    ScoringUnsupportedError,
    truncate_at_stop,
)

try:
    import openai
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(f"the http backend needs the openai client: {LLM_EXTRA}") from error

SCORING_EXTENSIONS = {"add_generation_prompt": False, "continue_final_message": True}


class HTTPModel(LanguageModel):
    """A model behind an OpenAI-compatible server.

    Args:
        base_url: the server's API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name the server knows; ``"smollm2"`` (the config default) or empty
            asks the server which model it serves and takes the first.
        api_key: sent as a bearer token; servers on a laptop ignore it.
        concurrency: requests in flight at once.
        timeout: seconds to wait for one response; the client retries twice.

    Raises:
        ConnectionError: no server answers at ``base_url``.
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        concurrency: int = 16,
        timeout: float = 120.0,
    ):
        self.client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=2
        )
        self.base_url = base_url
        self.concurrency = int(concurrency)
        try:
            served = [m.id for m in self.client.models.list().data]
        except openai.APIConnectionError:
            raise ConnectionError(
                f"no OpenAI-compatible server answers at {base_url} (start one with: aligngym "
                "serve --port <port>, and pass agent.model.base_url=http://127.0.0.1:<port>/v1)"
            ) from None
        from aligngym.agents.llm.default_model import DEFAULT_MODEL

        if not model or (model == DEFAULT_MODEL and model not in served and served):
            model = served[0]
        self.name = str(model)

    def _map(self, function, items: Sequence[Any]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(items)))) as pool:
            return list(pool.map(function, items))

    # ---- generation ------------------------------------------------------------------

    def generate(
        self,
        chats: Sequence[Chat],
        max_new_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> list[str]:
        def one(chat: Chat) -> str:
            response = self.client.chat.completions.create(
                model=self.name, messages=list(chat), max_tokens=max_new_tokens,
                temperature=temperature, stop=list(stop) or None,
            )  # fmt: skip
            return truncate_at_stop(response.choices[0].message.content or "", stop)

        return self._map(one, chats)

    def embed(self, texts: Sequence[str], layer: int = -1, pooling: str = "last") -> np.ndarray:
        """Refused: the OpenAI API returns no hidden states (an ``/embeddings`` endpoint, where
        a server has one, gives another model's vectors, not a layer of this one)."""
        raise EmbeddingUnsupportedError(
            f"the http backend ({self.base_url}) cannot return a layer's hidden states; embed "
            "texts with the transformers backend (agent.model.language_model.model=<the same "
            "model, local>)"
        )

    # ---- scoring ---------------------------------------------------------------------

    def score(
        self,
        chats: Sequence[Chat],
        continuations: Sequence[Sequence[str]],
        reply_prefixes: Sequence[str] | None = None,
    ) -> list[Scores]:
        starts = list(reply_prefixes or [""] * len(chats))
        jobs = [(chat, start) for chat, start in zip(chats, starts)]
        jobs += [(chat, start + text) for chat, start, texts in zip(chats, starts, continuations)
                 for text in texts]  # fmt: skip
        answers = self._map(lambda job: self._prompt_logprobs(*job), jobs)
        contexts, replies = answers[: len(chats)], iter(answers[len(chats) :])
        results = []
        for (context_tokens, _), texts in zip(contexts, continuations):
            sums, counts = [], []
            for _ in texts:
                logprobs = next(replies)[1]
                tail = logprobs[context_tokens:] or logprobs[-1:]
                sums.append(sum(tail))
                counts.append(len(tail))
            results.append(Scores(np.array(sums), np.array(counts)))
        return results

    def _prompt_logprobs(self, chat: Chat, reply: str) -> tuple[int, list[float]]:
        """The chat with ``reply`` as an open assistant message (none if ``reply`` is empty):
        its token count and each token's log-probability."""
        messages, extensions = list(chat), {"prompt_logprobs": 0}
        if reply:  # an open assistant message; an empty one is where a reply begins
            messages.append({"role": "assistant", "content": reply})
            extensions.update(SCORING_EXTENSIONS)
        try:
            response = self.client.chat.completions.create(
                model=self.name, messages=messages, max_tokens=1, temperature=0.0,
                extra_body=extensions,
            )  # fmt: skip
        except openai.BadRequestError as error:
            raise ScoringUnsupportedError(
                f"the server at {self.base_url} refuses prompt log-probabilities: {error}"
            ) from None
        entries = getattr(response, "prompt_logprobs", None)
        if not entries:
            raise ScoringUnsupportedError(
                f"the server at {self.base_url} returns no prompt log-probabilities (vLLM and "
                "aligngym serve do; llama.cpp, Ollama and OpenAI do not)"
            )
        logprobs = [_logprob(entry) for entry in entries[1:]]
        return len(entries), [0.0, *logprobs]


def _logprob(entry: dict[str, Any]) -> float:
    """The log-probability of the prompt's own token in a vLLM ``prompt_logprobs`` entry
    (asked for with 0 alternatives, so the token is the entry's only key)."""
    if len(entry) != 1:
        raise ScoringUnsupportedError(
            f"expected one token per prompt_logprobs entry, got {len(entry)}"
        )
    value = next(iter(entry.values()))
    return float(value["logprob"] if isinstance(value, dict) else value)
