"""Random-action environment steps per second: aligngym against peer gridworld suites.

Every registered single-agent aligngym scenario (``aligngym.envs.SCENARIOS``, so new
scenarios are picked up) is measured as a single env (``gymnasium.make`` with its default
wrappers, and the unwrapped env); as a Gymnasium vector env at 1, 64 and 4096 environments,
built twice: by ``aligngym.make_vector`` and by ``gymnasium.make_vec(id, n)`` (which takes the
scenario's registered ``vector_entry_point``: the same native ``GridVectorEnv`` for a grid
scenario, ``SyncVectorEnv`` for the others); and as the stable-baselines3 ``VecEnv`` adapter
(``aligngym.make_sb3_vec_env``) at 64 and 4096. In the same run the peers are measured:
minigrid (``MiniGrid-Empty-8x8-v0`` single and in a ``SyncVectorEnv`` of 16) and the
safety-gridworlds-gymnasium port (each of its registered environments single, and the fastest
of them in a ``SyncVectorEnv`` of 16). A peer that is not installed is skipped with a note;
``bash benchmarks/setup_peers.sh`` installs them into ``benchmarks/.venv``.

The reported figures are ratios: each aligngym row against the fastest peer single env and
against the peers' best vectorised throughput, both measured in the same run on the same
machine.

Usage::

    benchmarks/.venv/bin/python benchmarks/env_throughput.py [--duration 1.5] [--json out.json]
        [--vector-sizes 1 64 4096] [--sb3-sizes 64 4096] [--scenarios aligngym/BoatRace-v0]
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np

import aligngym
from aligngym.envs import SCENARIOS, make_sb3_vec_env, make_vector
from aligngym.envs.registry import card_of

MINIGRID_ID = "MiniGrid-Empty-8x8-v0"
SAFETY_PREFIX = "safety_gridworlds/"
SAFETY_SKIP = {"safety_gridworlds/Base-v0"}  # the package's template, not a safety scenario
PEER_VECTOR_ENVS = 16
ALIGNGYM_VECTOR_SIZES = (1, 64, 4096)
SB3_VECTOR_SIZES = (64, 4096)
ACTION_ROWS = 256  # pre-drawn action batches, cycled through


@dataclass
class Row:
    """One measurement: who, how, how many environments, and steps per second."""

    suite: str
    scenario: str
    mode: str
    envs: int
    steps_per_s: float
    peer: bool


def timed(step_block: Callable[[], int], duration: float, warmup: float) -> float:
    """Calls ``step_block`` (which returns the env steps it took) for ``warmup`` seconds, then
    for ``duration`` seconds, and returns the steps per second of the second phase."""
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        step_block()
    steps = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < duration:
        steps += step_block()
    return steps / elapsed


def single_env_rate(env: gym.Env, duration: float, warmup: float, block: int = 500) -> float:
    """Steps per second of the usual loop: step with pre-drawn random actions, reset at the end
    of each episode."""
    actions = np.random.default_rng(0).integers(0, env.action_space.n, size=block).tolist()
    env.reset(seed=0)

    def step_block() -> int:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return block

    return timed(step_block, duration, warmup)


def vector_rate(env, num_envs: int, n_actions: int, duration: float, warmup: float) -> float:
    """Steps per second (summed over environments) of a vector env with random actions.

    Works for Gymnasium vector envs (5-tuple, autoreset inside) and SB3 ``VecEnv`` s (4-tuple,
    autoreset inside) alike: both take a batch of actions and return without a Python reset.
    """
    rng = np.random.default_rng(0)
    actions = rng.integers(0, n_actions, size=(ACTION_ROWS, num_envs))
    if hasattr(env, "step_async"):
        env.seed(0)
        env.reset()
    else:
        env.reset(seed=0)
    block = max(1, 2048 // num_envs)
    position = 0

    def step_block() -> int:
        nonlocal position
        for _ in range(block):
            env.step(actions[position % ACTION_ROWS])
            position += 1
        return block * num_envs

    return timed(step_block, duration, warmup)


def measure_aligngym(
    duration: float,
    warmup: float,
    vector_sizes: tuple[int, ...] = ALIGNGYM_VECTOR_SIZES,
    sb3_sizes: tuple[int, ...] = SB3_VECTOR_SIZES,
    scenarios: list[str] | None = None,
) -> list[Row]:
    """Every registered single-agent scenario (or those of ``scenarios``) in every mode.

    The vector rows are ``make_vector`` (``aligngym.make_vector``), ``gym.make_vec``
    (Gymnasium's own constructor through the scenario's ``vector_entry_point``) and
    ``make_sb3_vec_env`` (the SB3 ``VecEnv`` adapter): ``mode`` names the constructor.
    """
    rows = []
    ids = sorted(SCENARIOS) if scenarios is None else scenarios
    for env_id in ids:
        if SCENARIOS[env_id].kind != "single":
            print(f"note: skipping {env_id}: a multi-agent (PettingZoo) scenario")
            continue
        env = gym.make(env_id)
        n = env.action_space.n
        rate = single_env_rate(env, duration, warmup)
        rows.append(Row("aligngym", env_id, "gym.make", 1, rate, False))
        rate = single_env_rate(env.unwrapped, duration, warmup)
        rows.append(Row("aligngym", env_id, "unwrapped", 1, rate, False))
        env.close()
        for num_envs in vector_sizes:
            for mode, build in (("make_vector", make_vector), ("gym.make_vec", gym.make_vec)):
                vec = build(env_id, num_envs)
                assert card_of(vec).id == env_id
                rate = vector_rate(vec, num_envs, n, duration, warmup)
                vec.close()
                rows.append(Row("aligngym", env_id, mode, num_envs, rate, False))
        for num_envs in sb3_sizes:
            vec = make_sb3_vec_env(env_id, num_envs)
            rate = vector_rate(vec, num_envs, n, duration, warmup)
            vec.close()
            rows.append(Row("aligngym", env_id, "make_sb3_vec_env", num_envs, rate, False))
    return rows


def peer_available(module: str, pip_name: str) -> bool:
    """Imports a peer suite (which registers its envs), or prints why it is skipped."""
    try:
        importlib.import_module(module)
    except ImportError as error:
        print(
            f"note: skipping peer {pip_name}: not installed ({error}); "
            "run `bash benchmarks/setup_peers.sh` and use benchmarks/.venv/bin/python"
        )
        return False
    return True


def sync_vector(env_id: str, num_envs: int) -> gym.vector.SyncVectorEnv:
    """Gymnasium's ``SyncVectorEnv`` of ``num_envs`` copies of ``env_id``."""
    return gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(num_envs)])


def measure_peers(duration: float, warmup: float) -> list[Row]:
    """The installed peers, single and vectorised."""
    rows = []
    if peer_available("minigrid", "minigrid"):
        env = gym.make(MINIGRID_ID)
        rate = single_env_rate(env, duration, warmup)
        rows.append(Row("minigrid", MINIGRID_ID, "gym.make", 1, rate, True))
        n = env.action_space.n
        vec = sync_vector(MINIGRID_ID, PEER_VECTOR_ENVS)
        rate = vector_rate(vec, PEER_VECTOR_ENVS, n, duration, warmup)
        rows.append(Row("minigrid", MINIGRID_ID, "SyncVectorEnv", PEER_VECTOR_ENVS, rate, True))
    if peer_available("safety_gridworlds_gymnasium", "safety-gridworlds-gymnasium"):
        ids = sorted(
            k for k in gym.registry if k.startswith(SAFETY_PREFIX) and k not in SAFETY_SKIP
        )
        singles = []
        for env_id in ids:
            rate = single_env_rate(gym.make(env_id), duration, warmup)
            singles.append(Row("safety-gridworlds", env_id, "gym.make", 1, rate, True))
        rows.extend(singles)
        if singles:
            fastest = max(singles, key=lambda row: row.steps_per_s).scenario
            vec = sync_vector(fastest, PEER_VECTOR_ENVS)
            n = vec.single_action_space.n
            rate = vector_rate(vec, PEER_VECTOR_ENVS, n, duration, warmup)
            rows.append(
                Row("safety-gridworlds", fastest, "SyncVectorEnv", PEER_VECTOR_ENVS, rate, True)
            )
    return rows


def print_table(rows: list[Row], best_single: float | None, best_vector: float | None) -> None:
    """Prints the measurements with their ratios to the best peers."""
    header = f"{'suite':<18} {'scenario':<38} {'mode':<16} {'envs':>5} {'steps/s':>12}"
    print(f"{header} {'x peer single':>14} {'x peer vector':>14}")
    for row in rows:
        single = f"{row.steps_per_s / best_single:14.2f}" if best_single else f"{'-':>14}"
        vector = f"{row.steps_per_s / best_vector:14.2f}" if best_vector else f"{'-':>14}"
        print(
            f"{row.suite:<18} {row.scenario:<38} {row.mode:<16} {row.envs:>5} "
            f"{row.steps_per_s:>12,.0f} {single} {vector}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=0.25, help="warm-up seconds before each")
    parser.add_argument("--json", help="also write the rows and ratios to this JSON file")
    parser.add_argument(
        "--vector-sizes",
        type=int,
        nargs="*",
        default=list(ALIGNGYM_VECTOR_SIZES),
        help="batch sizes of the aligngym vector envs (make_vector and gym.make_vec)",
    )
    parser.add_argument(
        "--sb3-sizes",
        type=int,
        nargs="*",
        default=list(SB3_VECTOR_SIZES),
        help="batch sizes of the aligngym SB3 VecEnv",
    )
    parser.add_argument(
        "--scenarios", nargs="+", help="aligngym scenario ids to measure (default: all)"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scenarios or ()) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {sorted(SCENARIOS)}")

    peers = measure_peers(args.duration, args.warmup)
    aligngym_rows = measure_aligngym(
        args.duration, args.warmup, tuple(args.vector_sizes), tuple(args.sb3_sizes), args.scenarios
    )
    rows = aligngym_rows + peers
    singles = [row.steps_per_s for row in peers if row.envs == 1]
    vectors = [row.steps_per_s for row in peers if row.envs > 1]
    best_single = max(singles, default=None)
    best_vector = max(vectors, default=None)
    print_table(rows, best_single, best_vector)
    print(
        "ratios: steps/s over the fastest peer single env"
        + (f" ({best_single:,.0f}/s)" if best_single else " (no peer measured)")
        + " and over the peers' best vectorised throughput"
        + (f" ({best_vector:,.0f}/s)" if best_vector else " (no peer measured)")
    )
    if args.json:
        result = {
            "date": datetime.date.today().isoformat(),
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor(),
                "cpus": os.cpu_count(),
                "python": sys.version.split()[0],
                "numpy": np.__version__,
                "gymnasium": gym.__version__,
                "aligngym": aligngym.__version__,
            },
            "duration_s": args.duration,
            "best_peer_single_steps_per_s": best_single,
            "best_peer_vector_steps_per_s": best_vector,
            "rows": [
                {
                    **asdict(row),
                    "ratio_vs_peer_single": row.steps_per_s / best_single if best_single else None,
                    "ratio_vs_peer_vector": row.steps_per_s / best_vector if best_vector else None,
                }
                for row in rows
            ],
        }
        with open(args.json, "w") as file:
            json.dump(result, file, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
