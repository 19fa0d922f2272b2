"""What each oversight module costs: training speed against ``oversight=none``, same run.

For each scenario, trains the benchmark's agent (``experiment=benchmark/oversight_rl``:
``ppo_fast``, 64 environments) through ``aligngym run`` once per oversight module, one after
another in this invocation, and reads the training steps per second from each run's
``metrics.jsonl`` (``charts/SPS`` between evaluations, evaluations left out). Each module is
reported as a ratio against ``oversight=none`` of the same scenario, measured in the same
invocation: what the module adds to a training step (reward-model inference, segment
bookkeeping, labelling rounds and refits, or the judges' reference rollouts and fits, which
come before the first step and count in the wall time only).

Usage::

    python benchmarks/oversight_overhead.py [--envs boat_race tomato_watering]
        [--oversight none true_reward preferences outcome_judge process_judge]
        [--timesteps 200000] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from experiment_speed import QUIET, training_steps_per_second

MODULES = ["none", "true_reward", "preferences", "outcome_judge", "process_judge"]


def run(env: str, oversight: str, timesteps: int, folder: Path) -> dict:
    """One training run of the benchmark's agent; its training speed and wall time."""
    command = [sys.executable, "-m", "aligngym", "run", f"hydra.run.dir={folder}",
               "experiment=benchmark/oversight_rl", f"env={env}", f"oversight={oversight}",
               f"train.timesteps={timesteps}", f"eval.every={timesteps // 4}",
               "eval.episodes=16", *QUIET]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    return {
        "env": env,
        "oversight": oversight,
        "timesteps": timesteps,
        "wall_seconds": round(wall, 1),
        "training_steps_per_second": round(training_steps_per_second(folder / "metrics.jsonl")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", nargs="+", default=["boat_race", "tomato_watering"])
    parser.add_argument("--oversight", nargs="+", default=MODULES)
    parser.add_argument("--timesteps", type=int, default=200_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.oversight[0] != "none":
        parser.error("the first module must be none: the baseline of the ratios")
    rows = []
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {args.timesteps} steps a run")
    print(f"{'scenario':<18} {'oversight':<14} {'train SPS':>10} {'x none':>7} {'wall s':>7}")
    with tempfile.TemporaryDirectory() as scratch:
        for env in args.envs:
            baseline = None
            for oversight in args.oversight:
                row = run(env, oversight, args.timesteps, Path(scratch) / f"{env}_{oversight}")
                baseline = baseline or row["training_steps_per_second"]
                row["ratio_to_none"] = round(row["training_steps_per_second"] / baseline, 2)
                rows.append(row)
                speed, ratio = row["training_steps_per_second"], row["ratio_to_none"]
                print(f"{env:<18} {oversight:<14} {speed:>10} {ratio:>7.2f} "
                      f"{row['wall_seconds']:>7.1f}", flush=True)  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
