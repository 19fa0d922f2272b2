"""End-to-end PPO training steps per second as the number of environments grows, on a device.

Trains ``ppo_fast`` (:class:`aligngym.agents.ppo_fast.FastPPOAgent`) on a scenario's native
batched env at each ``--n-envs`` on ``--device`` (CUDA on a GPU box), and, with ``--sb3``, SB3's
PPO on the same env and device for comparison. The time covers everything training does:
stepping the environments, moving observations to the device and actions back, the forward
passes, the advantage computation and the gradient steps. One warm-up rollout (CUDA context,
kernels, numba) is trained and not counted. After the timed run each agent is evaluated with
aligngym's own evaluation, so that the figure comes with what was learned in that time.

Each size trains with 8 steps per environment per rollout and one pass of 8 minibatches
(``batch_size = n_envs``), the shape of ``conf/agent/ppo_fast.yaml`` scaled with the batch.

Usage::

    python benchmarks/ppo_scaling.py --device cuda --n-envs 4096 16384 --timesteps 20000000
    python benchmarks/ppo_scaling.py --device cpu --n-envs 1024 --timesteps 300000 --sb3
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import time

import torch

from aligngym.agents.ppo_fast import FastPPOAgent
from aligngym.agents.sb3 import SB3Agent
from aligngym.envs.core.metrics import summarize
from aligngym.envs.registry import make_vector
from aligngym.evaluation import evaluate

N_STEPS = 8
MINIBATCHES = 8


def device_name(device: str) -> str:
    """The device in words: the GPU's name, or the CPU's."""
    resolved = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else device)
    if resolved.type == "cuda":
        return torch.cuda.get_device_name(resolved)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def build(learner: str, env_id: str, n_envs: int, device: str, seed: int):
    """A fresh agent, ``ppo_fast`` or ``sb3_ppo``, at the same scaled rollout shape."""
    hyperparameters = {
        "n_steps": N_STEPS,
        "batch_size": max(n_envs * N_STEPS // MINIBATCHES, 1),
        "n_epochs": 1,
        "learning_rate": 1e-3,
        "normalize_advantage": False,
    }
    if learner == "ppo_fast":
        return FastPPOAgent(env_id, seed, device=device, hyperparameters=hyperparameters)
    return SB3Agent("PPO", env_id, seed, device=device, hyperparameters=hyperparameters)


def measure(learner: str, env_id: str, n_envs: int, device: str, timesteps: int, seed: int):
    """Trains one agent (a warm-up rollout, then ``timesteps`` timed); returns its figures."""
    agent = build(learner, env_id, n_envs, device, seed)
    env = make_vector(env_id, n_envs, autoreset_mode=agent.autoreset_mode)
    warmup = n_envs * N_STEPS
    agent.learn(env, warmup)
    start = time.perf_counter()
    agent.learn(env, timesteps)
    elapsed = time.perf_counter() - start
    env.close()
    result = summarize(evaluate(agent, env_id, {}, 100, seed=seed + 1000))
    return {
        "learner": learner,
        "n_envs": n_envs,
        "timesteps": timesteps,
        "seconds": round(elapsed, 3),
        "steps_per_second": round(timesteps / elapsed),
        "return_mean": result["return_mean"],
        "performance_mean": result["performance_mean"],
        "failure_rate": result["failure_rate"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="aligngym/BoatRace-v0")
    parser.add_argument("--n-envs", type=int, nargs="+", default=[4096, 16384])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--timesteps", type=int, default=20_000_000)
    parser.add_argument(
        "--sb3", action="store_true", help="also SB3's PPO (timed over --sb3-timesteps)"
    )
    parser.add_argument("--sb3-timesteps", type=int, default=500_000)
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    header = {
        "date": datetime.date.today().isoformat(),
        "env": args.env,
        "device": device_name(args.device),
        "torch": torch.__version__,
    }
    print(" | ".join(f"{key}: {value}" for key, value in header.items()))
    print(f"{'learner':<9} {'envs':>6} {'timesteps':>11} {'steps/s':>11} {'return':>7} "
          f"{'perf':>7} {'failure':>7}")  # fmt: skip
    rows = []
    for n_envs in args.n_envs:
        runs = [("ppo_fast", args.timesteps)] + ([("sb3_ppo", args.sb3_timesteps)] * args.sb3)
        for learner, timesteps in runs:
            row = measure(learner, args.env, n_envs, args.device, timesteps, args.seed)
            rows.append(row)
            figures = (row["return_mean"], row["performance_mean"], row["failure_rate"])
            print(f"{learner:<9} {n_envs:>6} {timesteps:>11,} {row['steps_per_second']:>11,} "
                  "{:>7.1f} {:>7.1f} {:>7.2f}".format(*figures), flush=True)  # fmt: skip
    if args.json:
        with open(args.json, "w") as file:
            json.dump({**header, "rows": rows}, file, indent=2)


if __name__ == "__main__":
    main()
