"""The strong student of a weak-to-strong study: a pretrained encoder, a head trained on labels."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from aligngym.agents.supervised.contrastive import encoder_network, pretrain
from aligngym.agents.supervised.text_encoder import LanguageModelEncoder
from aligngym.cache import cached_state
from aligngym.envs.core.labelled import FEATURES, FULL_VIEW, TEXT, LabelledTask
from aligngym.envs.core.settings import SettingError, check_choice, check_float, check_int
from aligngym.envs.registry import scenario

#: each encoder and the whole inputs it reads (a task's ``inputs``)
ENCODERS = {"contrastive": FEATURES, "language_model": TEXT, "none": FEATURES}
#: bumps the cache key when pretraining changes
PRETRAINING_VERSION = 1
#: a loss: the head's logits, the batch's soft labels and training progress in [0, 1]
Loss = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
#: how the encoder reads an example of several members (a task's ``members``): each member
#: apart, the head comparing their embeddings; or the members' inputs joined, as one input
MEMBERS = ("compared", "joined")


def compared(embeddings: torch.Tensor) -> torch.Tensor:
    """What the head reads of examples of several members, from their members' embeddings
    (``(n, members, k)``): each later member's embedding less the first's, ``(n, (members -
    1) * k)``. For a pair, ``z_2 - z_1``: on it a linear head is a Bradley-Terry model of a
    linear reward, and swapping the members negates it."""
    return (embeddings[:, 1:] - embeddings[:, :1]).flatten(1)


class Student:
    """A classifier of a labelled task's whole inputs (``full`` view), trained on soft labels.

    With ``encoder="contrastive"`` it is a *pretrained* student: before seeing any label it
    pretrains an encoder, self-supervised, on the train split's inputs
    (:mod:`~aligngym.agents.supervised.contrastive`; cached, so every run of a seed shares
    one), and then trains only a head on the encoder's frozen, normalised embedding. With
    ``encoder="none"`` it trains the head on the raw inputs, from scratch (give it hidden
    layers): the student without a prior that Burns et al.'s effect needs. With
    ``encoder="language_model"`` it reads a text task's texts through a frozen language
    model's hidden states (:mod:`~aligngym.agents.supervised.text_encoder`; computed once per
    split and cached), normalised as the contrastive embedding is.

    On a task whose examples are pairs (or more members: the task's ``members``), the
    contrastive encoder by default reads each member apart, as a preference-learning reward
    model does: it pretrains on single members, embeds each member of an example with the same
    weights, and the head reads the comparison of their embeddings (:func:`compared`).

    Args:
        env_id: the task (a labelled task).
        seed: seeds pretraining and the head's training.
        encoder: ``contrastive`` or ``none`` (tasks of numeric inputs), ``language_model``
            (text tasks).
        language_model: the ``language_model`` encoder's settings (``layer``, ``pooling``,
            ``model``, ``device``, ``dtype``, ``max_batch``:
            :class:`~aligngym.agents.supervised.text_encoder.LanguageModelEncoder`).
        embedding: the encoder's output width.
        encoder_hidden: the encoder's hidden widths.
        pretrain_epochs, pretrain_batch_size, pretrain_learning_rate, temperature: its
            contrastive pretraining (NT-Xent's temperature).
        members: on a task of several members, ``compared`` (the encoder embeds each member;
            the head reads :func:`compared`) or ``joined`` (the encoder reads the members'
            inputs joined, as one input). Without an encoder the head reads the raw inputs
            joined.
        head_hidden: the head's hidden widths (empty: a linear head, a probe).
        epochs, batch_size, learning_rate, weight_decay: the head's training with Adam.
    """

    scenario_kind: ClassVar[str] = "dataset"
    task_type: ClassVar[type] = LabelledTask

    def __init__(
        self,
        env_id: str,
        seed: int = 0,
        encoder: str = "contrastive",
        embedding: int = 32,
        encoder_hidden: Sequence[int] = (256, 256),
        pretrain_epochs: int = 200,
        pretrain_batch_size: int = 256,
        pretrain_learning_rate: float = 1e-3,
        temperature: float = 0.2,
        language_model: Mapping[str, Any] | None = None,
        members: str = "compared",
        head_hidden: Sequence[int] = (),
        epochs: int = 20,
        batch_size: int = 64,
        learning_rate: float = 1e-2,
        weight_decay: float = 1e-3,
    ):
        self.env_id, self.seed = env_id, int(seed)
        self.encoder_kind = check_choice("encoder", encoder, tuple(ENCODERS))
        self.members = check_choice("members", members, MEMBERS)
        task = scenario(env_id).env_class
        #: how many members the encoder embeds apart (1: each example's input whole)
        self.parts = task.members if members == "compared" and encoder == "contrastive" else 1
        inputs = task.inputs
        if ENCODERS[encoder] != inputs:
            readers = [name for name, reads in ENCODERS.items() if reads == inputs]
            raise SettingError(
                f"encoder {encoder!r} cannot read {env_id}'s inputs ({inputs}); the encoders "
                f"that can: {readers}"
            )
        self.language_model = dict(language_model or {})
        self.text_encoder = (
            LanguageModelEncoder(**self.language_model) if encoder == "language_model" else None
        )
        self.architecture = {
            "embedding": check_int("embedding", embedding, 2),
            "encoder_hidden": [check_int("encoder_hidden", h, 1) for h in encoder_hidden],
        }
        self.pretraining = {
            "epochs": check_int("pretrain_epochs", pretrain_epochs, 1),
            "batch_size": check_int("pretrain_batch_size", pretrain_batch_size, 2),
            "learning_rate": check_float("pretrain_learning_rate", pretrain_learning_rate, 0.0),
            "temperature": check_float("temperature", temperature, 0.0),
        }
        self.head_hidden = [check_int("head_hidden", h, 1) for h in head_hidden]
        self.training = {
            "epochs": check_int("epochs", epochs, 1),
            "batch_size": check_int("batch_size", batch_size, 1),
            "learning_rate": check_float("learning_rate", learning_rate, 0.0),
            "weight_decay": check_float("weight_decay", weight_decay, 0.0),
        }
        self.encoder: nn.Module | None = None
        self.head: nn.Module | None = None
        self.pretrained_from_cache = False

    def prepare(self, task: LabelledTask) -> None:
        """Pretrains (or loads) the encoder on ``task``'s inputs (each member's, when it reads
        them apart); its labels are never read. A language model is not trained: the split's
        texts are embedded (or loaded) at once."""
        if self.text_encoder is not None:
            self.text_encoder(task.examples().view(FULL_VIEW))
        if self.encoder_kind != "contrastive":
            return
        whole = task.examples().view(FULL_VIEW)
        inputs = whole.reshape(len(whole) * self.parts, -1)
        encoder = self.encoder = encoder_network(
            inputs.shape[1], self.architecture["encoder_hidden"], self.architecture["embedding"]
        )
        key = {**task.data_key(), "seed": self.seed,
               "version": PRETRAINING_VERSION, **self.architecture, **self.pretraining}  # fmt: skip
        if self.parts > 1:  # an encoder of whole inputs keeps its key, and its cache
            key["parts"] = self.parts
        self.pretrained_from_cache = cached_state(
            "contrastive_encoder",
            key,
            encoder,
            lambda: pretrain(encoder, inputs, task.augment, seed=self.seed, **self.pretraining),
        )
        self.encoder.eval()

    def features(self, inputs: np.ndarray) -> torch.Tensor:
        """What the head reads: the encoder's embedding (or the language model's hidden
        states), normalised and scaled so that each feature's mean square is 1, or for members
        read apart, :func:`compared` of their embeddings so normalised (or the raw inputs
        without an encoder)."""
        if self.text_encoder is not None:
            z = torch.from_numpy(self.text_encoder(inputs))
        else:
            x = torch.tensor(np.asarray(inputs, dtype=np.float32))
            if self.encoder is None:
                if self.encoder_kind != "none":
                    raise RuntimeError("call prepare(task) before using a pretrained student")
                return x
            with torch.no_grad():
                z = self.encoder(x.reshape(len(x) * self.parts, -1))
        z = nn.functional.normalize(z, dim=-1) * z.shape[-1] ** 0.5
        return z if self.parts == 1 else compared(z.reshape(len(inputs), self.parts, -1))

    def fit(
        self,
        inputs: np.ndarray,
        labels: np.ndarray,
        loss: Loss,
        on_epoch: Callable[[int, int], None] | None = None,
    ) -> None:
        """Trains a fresh head on ``inputs`` and soft ``labels`` (``(n, classes)``) with
        ``loss``; ``on_epoch(epoch, examples_seen)`` is called after each epoch."""
        features = self.features(inputs)
        targets = torch.as_tensor(np.asarray(labels, dtype=np.float32))
        torch.manual_seed(self.seed)
        self.head = encoder_network(features.shape[1], self.head_hidden, targets.shape[1])
        settings = self.training
        optimiser = torch.optim.Adam(
            self.head.parameters(),
            lr=settings["learning_rate"],
            weight_decay=settings["weight_decay"],
        )
        generator = torch.Generator().manual_seed(self.seed)
        size, epochs = settings["batch_size"], settings["epochs"]
        total = epochs * -(-len(features) // size)
        step = 0
        for epoch in range(1, epochs + 1):
            order = torch.randperm(len(features), generator=generator)
            for start in range(0, len(features), size):
                rows = order[start : start + size]
                value = loss(self.head(features[rows]), targets[rows], step / total)
                optimiser.zero_grad()
                value.backward()
                optimiser.step()
                step += 1
            if on_epoch is not None:
                on_epoch(epoch, epoch * len(features))

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        """The head's probability of each class, ``(n, classes)``."""
        if self.head is None:
            raise RuntimeError("the student has not been trained: call fit first")
        with torch.no_grad():
            return self.head(self.features(inputs)).softmax(dim=-1).numpy()

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """The most probable class of each input."""
        return self.probabilities(inputs).argmax(axis=-1)

    def resized(
        self,
        embedding: int | None = None,
        encoder_hidden: Sequence[int] | None = None,
        head_hidden: Sequence[int] | None = None,
    ) -> Student:
        """An untrained copy of this student with other widths (those not given are kept): an
        intermediate student of a bootstrapping chain (Burns et al. 2023)."""
        other = copy.copy(self)
        other.architecture = dict(self.architecture)
        if embedding is not None:
            other.architecture["embedding"] = check_int("embedding", embedding, 2)
        if encoder_hidden is not None:
            other.architecture["encoder_hidden"] = [
                check_int("encoder_hidden", h, 1) for h in encoder_hidden
            ]
        if head_hidden is not None:
            other.head_hidden = [check_int("head_hidden", h, 1) for h in head_hidden]
        other.encoder = other.head = None
        other.pretrained_from_cache = False
        return other

    def settings(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "seed": self.seed,
            "encoder": self.encoder_kind,
            "language_model": self.language_model,
            "members": self.members,
            "architecture": self.architecture,
            "pretraining": self.pretraining,
            "head_hidden": self.head_hidden,
            "training": self.training,
        }

    def save(self, path: Path) -> Path:
        """Writes the encoder's and head's weights and the settings to ``path`` (``.pt``)."""
        path = Path(path).with_suffix(".pt")
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "settings": json.dumps(self.settings()),
            "encoder": self.encoder.state_dict() if self.encoder is not None else None,
            "head": self.head.state_dict() if self.head is not None else None,
        }
        torch.save(state, path)
        return path
