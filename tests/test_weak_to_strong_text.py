"""Weak-to-strong supervision on a text task read by a language model: the task's contract, the
language model's hidden states as a student's features (batch-independent, cached), Burns et
al.'s direction at small size, and the example."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose

import aligngym
from aligngym import cli
from aligngym.agents.llm import language_model
from aligngym.agents.llm.http_backend import HTTPModel
from aligngym.agents.llm.language_model import EmbeddingUnsupportedError
from aligngym.agents.supervised.student import Student
from aligngym.agents.supervised.text_encoder import LanguageModelEncoder
from aligngym.envs.core.settings import SettingError
from aligngym.envs.weak_to_strong.answers import _examples
from aligngym.oversight.weak_to_strong.module import WeakToStrong
from aligngym.validation import build_agent, validate

ENV_ID = "aligngym/WeakToStrongAnswers-v0"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: the reproduction's size: 300 train and 150 test texts read at layer 8, not the config's
#: 2,000 and 500 at layer 20 (layer 8 stops the model after 8 of its 30 layers: the 450 texts
#: take about 25 s on one core, the config's about 5 minutes)
SIZES = {"train": 300, "test": 150}
LAYER_8 = {"layer": 8, "device": "cpu"}
ALL_KINDS = {"kinds": ["arithmetic", "comparison", "world"], "n_options": 3, "size": 300}


def _kind(text: str) -> str:
    """The kind of question in ``text``, from its wording."""
    question = text.split("\n")[-2]
    return "arithmetic" if "+" in question else "comparison" if "largest" in question else "world"


def _truth(text: str) -> bool:
    """Whether the proposed answer in ``text`` is right, worked out from the text alone."""
    *context, question, answer = text.split("\n")
    answer = answer.removeprefix("Answer: ")
    if _kind(text) == "arithmetic":
        return int(answer) == sum(int(n) for n in re.findall(r"\d+", question))
    if _kind(text) == "comparison":
        return int(answer) == max(int(n) for n in re.findall(r"\d+", question))
    person = re.search(r"(?:is|does) (\w+?)(?:'s)? (?:hat|have|live)", question)[1]
    (fact,) = [f for f in context[0].split(". ") if f.startswith(f"{person} ")]
    words = fact.rstrip(".").split()
    return answer == (words[-2] if words[-1] == "hat" else words[-1])


@pytest.fixture(scope="module")
def tasks():
    return {split: aligngym.make(ENV_ID, split=split, size=n) for split, n in SIZES.items()}


def test_examples_are_balanced_seeded_disjoint_and_labelled_right():
    splits = {s: aligngym.make(ENV_ID, split=s, **ALL_KINDS).examples() for s in ("train", "test")}
    for examples in splits.values():
        texts = examples.view("full")
        assert texts.dtype.kind == "U" and examples.labels.mean() == 0.5
        assert [_truth(t) for t in texts] == examples.labels.astype(bool).tolist()
    again = _examples.__wrapped__("test", tuple(ALL_KINDS["kinds"]), 3, 300)
    for name, inputs in splits["test"].views.items():
        np.testing.assert_array_equal(again.view(name), inputs)
    np.testing.assert_array_equal(again.labels, splits["test"].labels)
    questions = {s: {t.rsplit("\n", 1)[0] for t in e.view("full")} for s, e in splits.items()}
    assert not questions["train"] & questions["test"]
    assert {_kind(t) for t in splits["train"].view("full")} == set(ALL_KINDS["kinds"])


def test_the_weak_views_count_words_of_the_text_and_of_the_answer(tasks):
    examples = tasks["test"].examples()
    first = examples.view("full")[0]
    assert first.startswith("Question: Which number is largest: ")
    assert examples.view("words")[0].sum() == len(re.findall(r"[A-Za-z]+|\d+", first)) == 11
    np.testing.assert_array_equal(examples.view("answer_words").sum(axis=1), 1.0)
    with pytest.raises(SettingError, match="views are"):
        examples.view("numbers")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"size": 301}, "size must be even"),
        ({"kinds": "comparison"}, r"a list, e.g. \['comparison'\]"),
        ({"n_options": 5}, "n_options must be"),
        ({"split": "validation"}, "split must be one of"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(SettingError, match=message):
        aligngym.make(ENV_ID, **settings)


def test_each_encoder_reads_only_its_kind_of_input(tasks):
    with pytest.raises(SettingError, match=r"cannot read .*\(text\); .* \['language_model'\]"):
        Student(ENV_ID)
    with pytest.raises(SettingError, match=r"\(features\); the encoders that can: \['contr"):
        Student("aligngym/WeakToStrongDigits-v0", encoder="language_model")
    with pytest.raises(SettingError, match="no contrastive encoder reads"):
        tasks["train"].augment(tasks["train"].examples().view("full"), np.random.default_rng(0))
    with pytest.raises(SettingError, match="pooling must be one of"):
        LanguageModelEncoder(pooling="max")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["oversight.module.weak_view=top_rows"], "has no view 'top_rows'"),
        (["agent=pretrained_student"], "encoder 'contrastive' cannot read"),
    ],
)
def test_bad_runs_are_refused_before_any_work(tmp_path, capsys, overrides, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", f"runs_root={tmp_path}", "logger=none", "env=weak_to_strong_answers",
                  *overrides])  # fmt: skip
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_experiment_sweeps_views_and_losses_with_the_language_model_student(hydra_conf):
    cfg = compose("config", overrides=["experiment=weak_to_strong/text"], return_hydra_config=True)
    student = build_agent(cfg, validate(cfg))
    assert student.text_encoder.layer == 20 and student.text_encoder.pooling == "last"
    params = cfg.hydra.sweeper.params
    assert params["oversight.module.weak_view"] == "words,answer_words"
    assert len(params.oversight.split(",")) == 4


@pytest.mark.usefixtures("one_torch_thread")
def test_hidden_states_do_not_depend_on_the_batch_and_stop_at_their_layer(smollm2, tasks):
    texts = list(tasks["test"].examples().view("full")[:6]) + ["A short one."]
    states = smollm2.embed(texts, layer=8)
    assert states.shape == (7, 576) and states.dtype == np.float32
    np.testing.assert_allclose(smollm2.embed(texts[::-1], layer=8)[::-1], states, atol=1e-4)
    np.testing.assert_allclose(smollm2.embed(texts[-1:], layer=8)[0], states[-1], atol=1e-4)
    ids = torch.tensor([smollm2.encode_text(texts[0])])
    with torch.inference_mode():
        whole = smollm2.model(input_ids=ids, output_hidden_states=True).hidden_states
    np.testing.assert_allclose(states[0], whole[8][0, -1].numpy(), atol=1e-4)
    mean = smollm2.embed(texts[:1], layer=-1, pooling="mean")[0]
    np.testing.assert_allclose(mean, whole[-1][0].mean(dim=0).numpy(), atol=1e-4)
    for layer in (31, -31, True):
        with pytest.raises(ValueError, match=r"layer must be an integer in \[-30, 30\]"):
            smollm2.embed(texts, layer=layer)


def test_a_server_refuses_hidden_states_with_a_clear_error(plain_chat_server):
    model = HTTPModel(plain_chat_server("Yes."), "plain")
    with pytest.raises(EmbeddingUnsupportedError, match="transformers backend"):
        model.embed(["Question: Which number is largest: 13, 36?\nAnswer: 36"])


@pytest.mark.usefixtures("one_torch_thread")
def test_the_encoder_embeds_each_text_once_and_caches_it_on_disk(
    smollm2, tasks, tmp_path, monkeypatch
):
    monkeypatch.setenv("ALIGNGYM_CACHE", str(tmp_path))
    monkeypatch.setattr(language_model, "load_language_model", lambda *args, **kw: smollm2)
    texts = tasks["train"].examples().view("full")[:8]
    encoder = LanguageModelEncoder(**LAYER_8)
    states = encoder(texts[:5])
    assert encoder(texts).shape == (8, 576) and encoder.embedded == 8
    np.testing.assert_array_equal(encoder(texts[:5]), states)
    assert encoder.embedded == 8 and len(list(tmp_path.glob("lm_features_*.npy"))) == 2
    again = LanguageModelEncoder(**LAYER_8)
    np.testing.assert_array_equal(again(texts[:5]), states)
    assert again.embedded == 0  # from the disk cache: the model was never asked
    other_layer = LanguageModelEncoder(layer=9, device="cpu")
    assert not np.allclose(other_layer(texts[:5]), states) and other_layer.embedded == 5


def _gap_recovered(tasks, seed: int) -> dict[str, float]:
    """PGR of cross-entropy and of the confidence loss for one seed, the supervisor reading the
    text's bag of words."""
    accuracy = {}
    for name, supervision, loss in [("floor", "none", "cross_entropy"),
                                    ("ceiling", "truth", "cross_entropy"),
                                    ("xent", "weak", "cross_entropy"),
                                    ("confidence", "weak", "confidence")]:  # fmt: skip
        student = Student(ENV_ID, seed=seed, encoder="language_model", language_model=LAYER_8)
        result = WeakToStrong(supervision, loss, weak_view="words").study(student, tasks, seed)
        accuracy[name] = np.mean([r.performance for r in result.records["test"]])
    span = accuracy["ceiling"] - accuracy["floor"]
    return {loss: (accuracy[loss] - accuracy["floor"]) / span for loss in ("xent", "confidence")}


@pytest.mark.usefixtures("one_torch_thread")
def test_a_language_model_student_surpasses_its_bag_of_words_supervisor(tasks):
    # measured (seeds 0 to 5; supervisor 0.43-0.54 on the 150 test texts, ceiling 0.77-0.83):
    # PGR 0.21 / 0.28 / 0.28 / 0.65 / 0.35 / 0.48 with cross-entropy, 0.38 / 0.60 / 0.24 /
    # 0.65 / 0.35 / 0.57 with the confidence loss
    pgr = [_gap_recovered(tasks, seed) for seed in (0, 1, 2)]
    for loss in ("xent", "confidence"):
        assert min(p[loss] for p in pgr) > 0.05, pgr
        assert np.mean([p[loss] for p in pgr]) > 0.15, pgr


@pytest.mark.usefixtures("one_torch_thread")
def test_the_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the example writes its plot to the working directory
    result = runpy.run_path(str(EXAMPLES / "17_weak_to_strong_text.py"), run_name="__main__")
    assert "texts its supervisor gets wrong" in capsys.readouterr().out
    pgr = result["pgr"]
    assert pgr["words", "confidence loss"] > 0.15 and pgr["words", "cross-entropy"] > 0.05
    assert (tmp_path / "weak_to_strong_text.png").stat().st_size > 10_000
