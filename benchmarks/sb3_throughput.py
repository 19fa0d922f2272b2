"""End-to-end stable-baselines3 PPO steps per second: aligngym's batched VecEnv vs DummyVecEnv.

The same PPO (``MlpPolicy``, the same hyperparameters and number of timesteps) is trained on
one scenario twice for each ``n_envs``: once on aligngym's SB3 ``VecEnv`` adapter
(``aligngym.make_sb3_vec_env``: SB3's API over the scenario's Gymnasium vector env in
same-step autoreset mode, which for a grid scenario steps every environment with one array
computation, and which records every finished episode's return, performance, events and
failure flag) and once on SB3's ``DummyVecEnv`` of ``gymnasium.make`` envs (a Python loop
over environments, the usual SB3 set-up). The time covers everything PPO does: collecting
rollouts, the policy's forward passes and the gradient updates.

Usage::

    python benchmarks/sb3_throughput.py [--env aligngym/BoatRace-v0] [--n-envs 16 64]
        [--timesteps 8192] [--torch-threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import time

import gymnasium as gym
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

import aligngym

N_STEPS = 64  # rollout length per environment; the rollout holds n_envs * N_STEPS steps


def dummy_vec_env(env_id: str, n_envs: int, seed: int) -> DummyVecEnv:
    """SB3's ``DummyVecEnv`` of ``gymnasium.make`` envs."""
    vec_env = DummyVecEnv([lambda: gym.make(env_id) for _ in range(n_envs)])
    vec_env.seed(seed)
    return vec_env


def ppo_steps_per_second(vec_env: VecEnv, timesteps: int, seed: int) -> float:
    """Trains a fresh PPO for ``timesteps`` steps on ``vec_env``; returns steps per second."""
    model = PPO(
        "MlpPolicy",
        vec_env,
        n_steps=N_STEPS,
        batch_size=256,
        n_epochs=4,
        seed=seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    elapsed = time.perf_counter() - start
    return model.num_timesteps / elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="aligngym/BoatRace-v0", help="scenario id")
    parser.add_argument("--n-envs", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--timesteps", type=int, default=8192, help="PPO timesteps per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch intra-op threads; 1 avoids oversubscribing a small shared CPU",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.torch_threads)
    # warm-up: the first PPO in a process pays torch's one-off start-up costs
    ppo_steps_per_second(dummy_vec_env(args.env, 4, args.seed), 4 * N_STEPS, args.seed)
    rows = []
    print(
        f"PPO MlpPolicy on {args.env}, {args.timesteps} timesteps, torch threads "
        f"{torch.get_num_threads()}"
    )
    print(
        f"{'n_envs':>6} {'make_sb3_vec_env steps/s':>25} {'DummyVecEnv steps/s':>20} {'ratio':>7}"
    )
    for n_envs in args.n_envs:
        batched = ppo_steps_per_second(
            aligngym.make_sb3_vec_env(args.env, n_envs, seed=args.seed), args.timesteps, args.seed
        )
        dummy = ppo_steps_per_second(
            dummy_vec_env(args.env, n_envs, args.seed), args.timesteps, args.seed
        )
        rows.append({"n_envs": n_envs, "sb3_vec_env": batched, "dummy_vec_env": dummy})
        print(f"{n_envs:>6} {batched:>25,.0f} {dummy:>20,.0f} {batched / dummy:>7.2f}")
    if args.json:
        result = {
            "date": datetime.date.today().isoformat(),
            "env": args.env,
            "timesteps": args.timesteps,
            "n_steps": N_STEPS,
            "torch_threads": torch.get_num_threads(),
            "rows": [{**row, "ratio": row["sb3_vec_env"] / row["dummy_vec_env"]} for row in rows],
        }
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
