"""Time to the result through the runner: SB3's PPO as it shipped against ``agent=ppo_fast``.

Runs each reproduction with ``aligngym run`` (a child process, ``logger=none``, no GIF), once
with SB3's PPO at the settings the experiment was measured with before it moved to
``ppo_fast``, and once as it ships now (``ppo_fast``), for each seed. From each run's
``metrics.jsonl`` it takes the training steps per second (``charts/SPS`` between evaluations,
which leaves the evaluations out, weighted by the steps of each interval) and the wall time of
the whole job, and from ``summary.json`` the learning result on the test setting. Both
learners run one after another on the same machine in the same invocation.

Usage::

    python benchmarks/experiment_speed.py [--experiments boat_race cheese_maze] [--seeds 0 1]
        [--json out.json]
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

EXPERIMENTS = {
    "boat_race": "specification_gaming/boat_race",
    "cheese_maze": "goal_misgeneralisation/cheese_maze",
}
# SB3's PPO as each experiment was measured with it (docs/reproductions.md)
SB3_AS_SHIPPED = {
    "boat_race": ["agent=ppo"],
    "cheese_maze": [
        "agent=ppo", "agent.n_envs=64", "train.timesteps=500000",
        "agent.model.checkpoint_every=100000", "agent.model.hyperparameters.n_steps=64",
        "agent.model.hyperparameters.batch_size=1024", "agent.model.hyperparameters.n_epochs=4",
        "agent.model.hyperparameters.learning_rate=0.001",
        "+agent.model.hyperparameters.policy_kwargs.activation_fn="
        "{_target_:hydra.utils.get_class,path:torch.nn.ReLU}",
    ],
}  # fmt: skip
QUIET = ["logger=none", "video.enabled=false", "progress=log"]


def training_steps_per_second(metrics: Path) -> float:
    """Training steps over training seconds, from the ``charts/SPS`` of each evaluation row."""
    steps = seconds = 0.0
    last = 0
    for line in metrics.read_text().splitlines():
        row = json.loads(line)
        interval = row["timesteps"] - last
        last = row["timesteps"]
        if row.get("charts/SPS") and interval > 0:
            steps += interval
            seconds += interval / row["charts/SPS"]
    return steps / seconds


def run(experiment: str, overrides: list[str], seed: int, folder: Path) -> dict:
    """One ``aligngym run`` into ``folder``; its training speed, wall time and test result."""
    command = [sys.executable, "-m", "aligngym", "run", f"hydra.run.dir={folder}"]
    command += [f"experiment={EXPERIMENTS[experiment]}", f"seed={seed}", *overrides, *QUIET]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    summary = json.loads((folder / "summary.json").read_text())
    test = summary["test"]
    return {
        "agent": summary["agent"],
        "seed": seed,
        "timesteps": summary["timesteps"],
        "wall_seconds": round(wall, 1),
        "training_steps_per_second": round(training_steps_per_second(folder / "metrics.jsonl")),
        "test_return": test["return_mean"],
        "test_performance": test["performance_mean"],
        "test_failure_rate": test["failure_rate"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", nargs="+", choices=sorted(EXPERIMENTS),
                        default=sorted(EXPERIMENTS))  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    print(f"{'experiment':<12} {'agent':<9} {'seed':>4} {'steps':>10} {'train steps/s':>14} "
          f"{'wall s':>7} {'test return':>11} {'perf':>6} {'failure':>7}")  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for experiment in args.experiments:
            for seed in args.seeds:
                for name, overrides in (("sb3", SB3_AS_SHIPPED[experiment]), ("fast", [])):
                    folder = Path(scratch) / f"{experiment}_{name}_{seed}"
                    row = {"experiment": experiment, **run(experiment, overrides, seed, folder)}
                    rows.append(row)
                    print(f"{experiment:<12} {row['agent']:<9} {seed:>4} {row['timesteps']:>10,} "
                          f"{row['training_steps_per_second']:>14,} {row['wall_seconds']:>7} "
                          f"{row['test_return']:>11.2f} {row['test_performance']:>6.2f} "
                          f"{row['test_failure_rate']:>7.2f}", flush=True)  # fmt: skip
    if args.json:
        result = {"date": datetime.date.today().isoformat(), "rows": rows}
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
