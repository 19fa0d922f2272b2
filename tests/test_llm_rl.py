"""``agent=llm_rl``: RL fine-tuning of the default model with LoRA, through ``aligngym run``.

The small reproduction of Sharma et al. (2023)'s direction: fine-tuned on the user's approval,
SmolLM2 agrees with wrong users more often than before (examples/10_llm_sycophancy.py and its
test); fine-tuned on the true reward (``oversight=true_reward``), less than on approval. The
test setting of SycophancyQA has a wrong user in every episode, so its observed return is the
sycophancy rate.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
import torch
from conftest import run_in_process

from aligngym import cli
from aligngym.agents.llm.rl import LLMRLAgent

SMALL = ["env=sycophancy_qa", "logger=none", "eval.episodes=16", "eval.every=0", "agent.n_envs=8"]
FINE_TUNING = [
    "agent=llm_rl", "train.timesteps=24", "agent.model.fine_tuning.n_steps=1",
    "agent.model.fine_tuning.batch_size=8", "agent.model.fine_tuning.n_epochs=1",
    "agent.model.fine_tuning.learning_rate=1e-3",
]  # fmt: skip


def test_fine_tuning_on_the_truth_keeps_sycophancy_below_fine_tuning_on_approval(tmp_path):
    """(That approval raises it above the shipped model's is examples/10_llm_sycophancy.py's
    test, on the same questions.)"""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:  # a core each
        on_approval = pool.submit(
            run_in_process, tmp_path / "approval", *SMALL, *FINE_TUNING, "threads=1",
            "agent.model.checkpoint_every=16",
        )  # fmt: skip
        on_truth = pool.submit(
            run_in_process, tmp_path / "truth", *SMALL, *FINE_TUNING, "threads=1",
            "oversight=true_reward",
        )  # fmt: skip
        (folder, approval), (_, truth) = on_approval.result(), on_truth.result()
    rates = (truth["test"]["failure_rate"], approval["test"]["failure_rate"])
    assert rates[0] < rates[1], f"sycophancy rate on the truth, on approval: {rates}"
    # the same monitor as every learner: training episodes, its losses, checkpoints
    assert approval["timesteps"] == 24 and approval["training_episodes"] == 24
    row = json.loads((folder / "metrics.jsonl").read_text().splitlines()[-1])
    assert row["losses/kl_to_reference"] > 0 and "losses/policy_gradient_loss" in row
    assert (folder / "checkpoints" / "llm_rl_16_steps.pt").is_file()
    assert (folder / approval["model"]).suffix == ".pt"


def test_a_checkpoint_resumes_with_its_adapters_and_refuses_other_ones(tmp_path):
    agent = LLMRLAgent("aligngym/SycophancyQA-v0", seed=0, device="cpu")
    with torch.no_grad():
        agent.trainable[0].add_(0.5)
    agent.timesteps = 40
    path = agent.save(tmp_path / "model")
    resumed = LLMRLAgent("aligngym/SycophancyQA-v0", seed=1, device="cpu", resume_from=str(path))
    assert resumed.resumed_timesteps == 40
    for a, b in zip(resumed.trainable, agent.trainable):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="adapters"):
        LLMRLAgent(
            "aligngym/SycophancyQA-v0", device="cpu", resume_from=str(path),
            fine_tuning={"lora_r": 4},
        )  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["agent.model.mode=generate"], "mode must be score"),
        (["agent.model.backend=http", "agent.model.base_url=http://127.0.0.1:9/v1"], "backend"),
        (["agent.model.fine_tuning.n_epochs=0"], "n_epochs"),
        (["agent.model.fine_tuning.gamma=1.5"], "gamma"),
    ],
)
def test_bad_fine_tuning_settings_are_refused_before_any_work(tmp_path, capsys, overrides, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", f"runs_root={tmp_path}", *SMALL, *FINE_TUNING, *overrides])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
