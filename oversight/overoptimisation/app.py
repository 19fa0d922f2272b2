"""``aligngym overoptimisation [OVERRIDES]``: the over-optimisation experiment as a Hydra app
(primary config ``conf/overoptimisation.yaml``; ``env=<scenario>`` as in ``aligngym run``).

A run folder holds ``config.yaml`` (the resolved config), ``results.json`` (every point, the
fitted ``alpha`` and ``beta`` of both forms per objective, the proxies' agreement with the
truth, the curves' shapes), ``points.csv`` (one row per point) and ``overoptimisation.png``
(gold against ``d`` for best-of-n and RL, with the fitted curves).
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from aligngym.oversight.overoptimisation.estimators import Fit
from aligngym.oversight.overoptimisation.experiment import run
from aligngym.oversight.overoptimisation.settings import Settings
from aligngym.scenario_configs import store_scenario_configs

log = logging.getLogger(__name__)
store_scenario_configs()  # the `scenario/<name>` configs that the env configs extend

COLOURS = {"single": "tab:red", "mean": "tab:orange", "worst": "tab:blue",
           "uncertainty": "tab:green"}  # fmt: skip


def settings_from_config(cfg: DictConfig) -> Settings:
    """The experiment's :class:`Settings` from the config; a bad value is refused with what is
    accepted (``ValueError``)."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    labels, proxy, bon, rl = plain["labels"], plain["proxy"], plain["best_of_n"], plain["rl"]
    return Settings(
        env_id=plain["env"]["id"], env_settings=dict(plain["env"].get("train") or {}),
        seed=plain["seed"], label_episodes=labels["episodes"],
        segment_length=labels["segment_length"], pairs=labels["pairs"],
        error_rate=labels["error_rate"], temperature=labels["temperature"],
        members=proxy["members"], hidden=tuple(proxy["hidden"]), epochs=proxy["epochs"],
        uncertainty_weight=proxy["uncertainty_weight"], objectives=tuple(proxy["objectives"]),
        pool=bon["pool"], max_n=bon["max_n"], rl_timesteps=rl["timesteps"],
        rl_checkpoints=rl["checkpoints"], eval_episodes=rl["eval_episodes"],
        kl_coef=rl["kl_coef"], n_envs=rl["n_envs"],
        hyperparameters=dict(rl.get("hyperparameters") or {}),
    )  # fmt: skip


def write_results(results: dict[str, Any], folder: Path) -> dict[str, Path]:
    """Writes ``results.json``, ``points.csv`` and ``overoptimisation.png`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "results.json", "csv": folder / "points.csv",
             "png": folder / "overoptimisation.png"}  # fmt: skip
    partial = paths["json"].with_suffix(".json.part")
    partial.write_text(json.dumps(results, indent=2, default=float))
    partial.replace(paths["json"])  # atomically: a reader never sees half a file
    columns = ["method", "objective", "n", "timesteps", "kl", "d", "gold", "gain", "proxy",
               "failure_rate"]  # fmt: skip
    with paths["csv"].open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        for method in ("best_of_n", "rl"):
            for objective, points in results[method].items():
                for point in points:
                    writer.writerow({"method": method, "objective": objective, **point})
    plot(results, paths["png"])
    return paths


def plot(results: dict[str, Any], path: Path) -> Path:
    """Gold against ``d`` for best-of-n (left) and RL (right): measured points, and Gao et
    al.'s fitted forms dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    methods = [m for m in ("best_of_n", "rl") if results[m]]
    figure, axes = plt.subplots(1, len(methods), figsize=(6 * len(methods), 4.5), squeeze=False)
    start = results["initial_policy"]["gold_mean"]
    for axis, method in zip(axes[0], methods):
        for objective, points in results[method].items():
            d = np.array([p["d"] for p in points])
            gold = np.array([p["gold"] for p in points])
            colour = COLOURS.get(objective)
            axis.plot(d, gold, "o-", color=colour, label=objective, markersize=4)
            fit = results["fits"][method].get(objective, {})
            if "alpha" in fit:
                curve = Fit(**{k: fit[k] for k in ("form", "alpha", "beta", "r2", "peak_d",
                                                   "peak_gain")})  # fmt: skip
                grid = np.linspace(0, d.max(), 100)
                base = points[0]["gold"] - points[0]["gain"]
                axis.plot(grid, base + curve(grid), "--", color=colour, alpha=0.6)
        axis.axhline(start, color="grey", lw=0.8, ls=":", label="initial policy")
        title = f"RL (ppo_fast) on the proxy, KL penalty {results['settings']['kl_coef']:g}"
        if method == "best_of_n":
            title = f"best-of-n, n = 1 .. {results['settings']['max_n']}"
        axis.set(xlabel="d = sqrt(KL(pi || pi_init))", ylabel="gold (true performance)",
                 title=title)  # fmt: skip
        axis.legend(fontsize=8)
    env = results["settings"]["env_id"].split("/")[-1]
    labels, flipped = results["settings"]["pairs"], results["settings"]["error_rate"]
    figure.suptitle(
        f"Proxy over-optimisation on {env}: {labels} labels, {flipped:.0%} flipped "
        "(dashed: Gao et al.'s forms)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


@hydra.main(version_base="1.3", config_path="pkg://aligngym.conf", config_name="overoptimisation")
def main(cfg: DictConfig) -> float:
    """Runs the experiment and writes its files; returns the single proxy's RL fall (gold at
    the peak minus at the end), or its best-of-n fall without RL."""
    folder = Path(HydraConfig.get().runtime.output_dir)
    try:
        settings = settings_from_config(cfg)
    except (ValueError, KeyError, TypeError) as error:
        print(f"aligngym overoptimisation: error: {error}", file=sys.stderr)
        sys.exit(2)
    if cfg.get("threads"):
        import torch

        torch.set_num_threads(int(cfg.threads))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    results = run(settings, log.info)
    paths = write_results(results, folder)
    log.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    for method, fits in results["fits"].items():
        for objective, fit in fits.items():
            shape = results["shapes"][method][objective]
            log.info("%s %-11s alpha %s beta %s | gold start %.2f peak %.2f (d %.2f) end %.2f",
                     method, objective, _num(fit.get("alpha")), _num(fit.get("beta")),
                     shape["start"], shape["peak"], shape["peak_d"], shape["end"])  # fmt: skip
    shapes = results["shapes"]["rl"] or results["shapes"]["best_of_n"]
    return float(next(iter(shapes.values()))["fall"])


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"
