"""Prompt log-probabilities that reuse the key-value caches of recent prompts.

Scoring over HTTP sends, for every decision, the prompt alone and then the prompt followed by
each legal action (:mod:`aligngym.agents.llm.http_backend`); a batch's prompts also share
their system message and instructions. Run naively, every request is a full forward pass of
its prompt. :class:`PrefixCache` keeps the key-value caches of the latest prompts and runs the
model only on the tokens after the longest prefix a new prompt shares with one of them, as
vLLM's automatic prefix caching does. The log-probabilities are the same, up to the float
noise of a different order of computation (the tests check 2e-3).

``aligngym serve`` scores through it; nothing else needs it (in process, the transformers
backend computes each prompt once per batch already).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class _Entry:
    """One cached prompt: its key-value cache and its tokens' log-probabilities."""

    cache: Any
    logprobs: list[float]


class PrefixCache:
    """The :meth:`prompt_logprobs` of a transformers model, with a cache of recent prompts.

    Args:
        lm: a :class:`~aligngym.agents.llm.transformers_backend.TransformersModel`.
        size: how many prompts' key-value caches to keep (least recently used go first). A
            prompt of 300 tokens of SmolLM2-135M takes about 14 MB.
        min_shared: a cached prompt is reused only where it shares at least this many tokens
            with the new one (below that, a fresh pass costs no more than copying the cache).
    """

    def __init__(self, lm: Any, size: int = 32, min_shared: int = 16):
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self.lm = lm
        self.size = size
        self.min_shared = min_shared
        self.entries: OrderedDict[tuple[int, ...], _Entry] = OrderedDict()
        #: tokens run through the model, and tokens whose computation a cached prompt saved
        self.computed_tokens = 0
        self.reused_tokens = 0

    @torch.inference_mode()
    def prompt_logprobs(self, text: str) -> tuple[list[int], list[float], int]:
        """As the model's ``prompt_logprobs``: the tokens of ``text``, the log-probability of
        each after those before it (0 for the first), and the most likely next token."""
        ids = self.lm.encode_text(text)
        shared, entry = self._longest_shared_prefix(ids)
        if entry is None:
            start, cache, logprobs = 0, None, [0.0]
        else:
            # run again from the last shared token: its logits give the next token's
            # log-probability, which the cache alone does not hold
            start = shared - 1
            cache = copy.deepcopy(entry.cache)
            surplus = cache.get_seq_length() - start
            if surplus > 0:
                cache.crop(-surplus)  # a negative count removes that many (transformers 4 and 5)
            logprobs = entry.logprobs[:shared]
        new = torch.tensor([ids[start:]], device=self.lm.device)
        positions = torch.arange(start, len(ids), device=self.lm.device)[None]
        out = self.lm.model(
            input_ids=new, position_ids=positions, use_cache=True,
            **{self.lm.cache_argument: cache},
        )  # fmt: skip
        logp = torch.log_softmax(out.logits[0].float(), dim=-1)
        targets = torch.tensor(ids[start + 1 :], device=self.lm.device)
        # row k of the new rows predicts ids[start + k + 1]: the tokens after the shared ones
        logprobs = logprobs + logp[:-1].gather(1, targets[:, None]).squeeze(1).cpu().tolist()
        self.computed_tokens += len(ids) - start
        self.reused_tokens += start
        self._store(tuple(ids), _Entry(getattr(out, self.lm.cache_argument), logprobs))
        return ids, logprobs, int(logp[-1].argmax())

    def _longest_shared_prefix(self, ids: list[int]) -> tuple[int, _Entry | None]:
        """The cached prompt sharing the longest prefix with ``ids`` (at least ``min_shared``
        tokens, and never all of ``ids``: one token is always run), and that length."""
        best, best_entry = 0, None
        for key, entry in self.entries.items():
            shared = _common_prefix_length(key, ids)
            if shared > best:
                best, best_entry = shared, (key, entry)
        if best_entry is None or best < self.min_shared:
            return 0, None
        key, entry = best_entry
        self.entries.move_to_end(key)
        return min(best, len(ids)), entry

    def _store(self, key: tuple[int, ...], entry: _Entry) -> None:
        self.entries[key] = entry
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


def _common_prefix_length(a: tuple[int, ...], b: list[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    for k in range(n):
        if a[k] != b[k]:
            return k
    return n
