"""A frozen language model as a student's encoder: each text's hidden state, computed once.

A strong student in Burns et al. (2023) is a pretrained language model whose representation
already holds the task's concept. Here a student of a text task
(:class:`~aligngym.envs.core.labelled.TextTask`) reads each text through the language-model
interface's :meth:`~aligngym.agents.llm.language_model.LanguageModel.embed` (one layer's hidden
state, pooled) and trains only a head on it. The states are deterministic, so each batch of new
texts is embedded once, stored in the cache (:mod:`aligngym.cache`, keyed by the texts and the
model's settings) and kept in memory: every run of a sweep that reads a split shares one copy,
and the model is loaded only when some text has never been embedded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from aligngym.agents.llm.language_model import POOLINGS, LanguageModel
from aligngym.cache import cached_array
from aligngym.envs.core.settings import check_choice, check_int

#: bumps the cache key when the embedding changes
EMBEDDING_VERSION = 1


class LanguageModelEncoder:
    """Texts to a language model's hidden states, cached on disk and in memory.

    Args:
        layer: the layer whose states are read (0: the token embeddings, negative: counted
            from the last; see :meth:`~aligngym.agents.llm.language_model.LanguageModel.embed`).
        pooling: ``last`` (the last token's state) or ``mean`` (the mean over the tokens).
        model, device, dtype, max_batch: the language model, as
            :func:`~aligngym.agents.llm.language_model.load_language_model` takes them (the
            transformers backend: a server has no hidden states to give).

    Attributes:
        embedded: how many texts this encoder has run the model on (0 when every one came from
            the cache).
    """

    def __init__(self, layer: int = -1, pooling: str = "last", model: str = "smollm2",
                 device: str = "auto", dtype: str = "auto", max_batch: int = 32):  # fmt: skip
        from aligngym.agents.devices import resolve_device

        self.layer = check_int("layer", layer)
        self.pooling = check_choice("pooling", pooling, POOLINGS)
        self.model_settings = {"model": str(model), "device": device, "dtype": dtype,
                               "max_batch": check_int("max_batch", max_batch, 1)}  # fmt: skip
        # what the states depend on: "auto" resolves to bfloat16 on a GPU, float32 on the CPU
        self.key = {"model": str(model), "device": resolve_device(device).type, "dtype": dtype,
                    "layer": self.layer, "pooling": self.pooling,
                    "version": EMBEDDING_VERSION}  # fmt: skip
        self.embedded = 0
        self._model: LanguageModel | None = None
        self._states: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """The hidden state of each of ``texts``, ``(len(texts), hidden)`` float32."""
        texts = [str(text) for text in texts]
        new = list(dict.fromkeys(text for text in texts if text not in self._states))
        if new:
            digest = hashlib.sha256("\0".join(new).encode()).hexdigest()
            states, _ = cached_array(
                "lm_features", {**self.key, "texts": digest}, lambda: self._embed(new)
            )
            self._states.update(zip(new, states))
        return np.stack([self._states[text] for text in texts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            from aligngym.agents.llm.language_model import load_language_model

            self._model = load_language_model("transformers", **self.model_settings)
        self.embedded += len(texts)
        return self._model.embed(texts, self.layer, self.pooling)
