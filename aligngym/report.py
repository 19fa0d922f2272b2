"""Turns a run or sweep folder into a results table (CSV, Markdown) and plots (PNG).

Every run folder holds a ``summary.json`` (its final train and test evaluation, or the error
of a failed run) and a ``metrics.jsonl`` (one row per periodic evaluation). The report finds
every ``summary.json`` below the folder and writes:

- ``results.csv``: one row per run (settings, status, every train/test statistic, error);
- ``report.md``: scenario x agent x oversight x variant, mean ± standard deviation over seeds
  of the train and test return, performance and failure rate, the number of seeds, and the
  failed runs with their errors. A run's *variant* is the part of its command-line overrides
  that differs between the runs of the report, seeds and the agent/env/oversight choice aside
  (``env.train.corner_size=null`` in a sweep over ``env.train.corner_size=2,null``);
- ``reward_vs_performance.png``: each run's observed return against its true performance,
  one point per run and setting (marker per setting, colour per agent and variant), one panel
  per scenario: specification gaming shows as points far right and low;
- ``learning_curves.png``: the train-setting evaluation return and performance against
  timesteps, averaged over seeds, one line per agent, oversight and variant.

Run it as ``python -m aligngym.report FOLDER [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from aligngym.envs.core.metrics import SUMMARY_STATS  # noqa: E402

SETTINGS = ("train", "test")
GROUP = ["scenario", "agent", "oversight", "variant"]
# override keys that never make a variant: seeds are aggregated over, agent/env/oversight are
# table columns already, and these others do not change what a run measures
NON_VARIANT_KEYS = {"seed", "agent", "env", "oversight", "runs_root", "threads"}
NON_VARIANT_PREFIXES = ("hydra", "logger", "video")
# the per-run statistics the Markdown table aggregates over seeds, with their headings
TABLE_COLUMNS = {
    "return_mean": "return",
    "performance_mean": "performance",
    "failure_rate": "failure rate",
}
CURVES = {"return_mean": "return", "performance_mean": "performance"}
MARKERS = {"train": "o", "test": "^"}


class NoRunsError(FileNotFoundError):
    """Raised when a folder holds no run (no ``summary.json``) to report on."""


def build_report(folder: Path, out: Path | None = None) -> Path:
    """Writes ``results.csv``, ``report.md`` and the plots for every run below ``folder``.

    Args:
        folder: a run folder or a sweep folder; searched recursively for ``summary.json``.
        out: where to write the report (created if needed); defaults to ``folder``.

    Returns:
        The folder the report was written to.

    Raises:
        NoRunsError: if no ``summary.json`` lies below ``folder``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NoRunsError(f"{folder} is not a folder; give a run or sweep folder under runs/")
    summaries = sorted(folder.rglob("summary.json"))
    if not summaries:
        raise NoRunsError(
            f"no summary.json below {folder}: not a run or sweep folder, or no run has finished yet"
        )
    out = folder if out is None else Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = load_results(folder, summaries)
    results.to_csv(out / "results.csv", index=False)
    completed = results[results["status"] == "completed"].copy()
    completed["label"] = [run_label(run) for _, run in completed.iterrows()]
    (out / "report.md").write_text(markdown_report(folder, results))
    plot_reward_vs_performance(completed, out / "reward_vs_performance.png")
    curves = load_curves(folder, completed)
    plot_learning_curves(curves, out / "learning_curves.png")
    return out


def load_results(folder: Path, summaries: Sequence[Path]) -> pd.DataFrame:
    """One row per run: its settings, status, train/test statistics, events and error."""
    rows = [_result_row(folder, path) for path in summaries]
    variants = run_variants([row.pop("overrides") for row in rows])
    for row, variant in zip(rows, variants):
        row["variant"] = variant
    frame = pd.DataFrame(rows)
    for setting in SETTINGS:
        for stat in SUMMARY_STATS:
            column = f"{setting}_{stat}"
            if column not in frame:
                frame[column] = math.nan
    return frame


def _result_row(folder: Path, path: Path) -> dict[str, Any]:
    summary = json.loads(path.read_text())
    run = path.parent.relative_to(folder).as_posix()
    row: dict[str, Any] = {
        "run": "." if run == "." else run,
        "status": summary.get("status", "unknown"),
        "experiment": summary.get("experiment", ""),
        "scenario": summary.get("scenario", ""),
        "agent": summary.get("agent", ""),
        "oversight": summary.get("oversight", "none"),
        "seed": summary.get("seed"),
        "timesteps": summary.get("timesteps"),
        "overrides": summary.get("overrides", []),
    }
    for setting in SETTINGS:
        stats = summary.get(setting) or {}
        for stat in SUMMARY_STATS:
            row[f"{setting}_{stat}"] = stats.get(stat, math.nan)
        for event, value in (stats.get("events") or {}).items():
            row[f"{setting}_event_{event}"] = value
    row["error"] = summary.get("error", "")
    return row


def run_variants(overrides: Sequence[Sequence[str]]) -> list[str]:
    """Each run's variant: its ``key=value`` overrides that not every run shares.

    Keys that never make a variant (:data:`NON_VARIANT_KEYS`, :data:`NON_VARIANT_PREFIXES`)
    are left out; the rest are sorted and joined with commas ("" where nothing differs).
    """
    kept = [
        {item for item in run_overrides if _is_variant_key(item.partition("=")[0])}
        for run_overrides in overrides
    ]
    shared = set.intersection(*kept) if kept else set()
    return [",".join(sorted(items - shared)) for items in kept]


def _is_variant_key(key: str) -> bool:
    key = key.lstrip("+~")
    return key not in NON_VARIANT_KEYS and not key.startswith(NON_VARIANT_PREFIXES)


def run_label(run: pd.Series) -> str:
    """How plots name a run's group: the agent, then the oversight and variant if any."""
    label = str(run["agent"])
    if run["oversight"] not in ("none", ""):
        label += f" / {run['oversight']}"
    if run["variant"]:
        label += f" [{run['variant']}]"
    return label


def aggregate(completed: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (over seeds, ddof=0) per scenario, agent, oversight and
    variant.

    Columns: the group keys, ``seeds``, and ``<setting>_<stat>_mean`` /
    ``<setting>_<stat>_std`` for the statistics of :data:`TABLE_COLUMNS`.
    """
    columns = [f"{setting}_{stat}" for setting in SETTINGS for stat in TABLE_COLUMNS]
    grouped = completed.groupby(GROUP, sort=True, dropna=False)
    table = grouped["seed"].nunique().rename("seeds").to_frame()
    for column in columns:
        table[f"{column}_mean"] = grouped[column].mean()
        table[f"{column}_std"] = grouped[column].std(ddof=0)
    return table.reset_index()


def _cell(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.2f} ± {std:.2f}"


def _escape(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_report(folder: Path, results: pd.DataFrame) -> str:
    """The Markdown report: the aggregated table and the list of failed runs."""
    completed = results[results["status"] == "completed"]
    failed = results[results["status"] != "completed"]
    lines = [
        f"# aligngym report: {folder.name or folder}",
        "",
        f"{len(results)} runs: {len(completed)} completed, {len(failed)} failed.",
        "Each cell is the mean ± standard deviation (ddof=0) over seeds of the runs' "
        "per-episode means.",
        "",
    ]
    # the variant column only where some runs differ in more than their seed
    keys = GROUP if (results["variant"] != "").any() else GROUP[:-1]
    if len(completed):
        headings = [f"{setting} {name}" for setting in SETTINGS for name in TABLE_COLUMNS.values()]
        lines.append("| " + " | ".join([*keys, "seeds", *headings]) + " |")
        lines.append("|" + "---|" * (len(keys) + 1 + len(headings)))
        for _, row in aggregate(completed).iterrows():
            cells = [_escape(row[key] or "–") for key in keys] + [str(int(row["seeds"]))]
            for setting in SETTINGS:
                for stat in TABLE_COLUMNS:
                    column = f"{setting}_{stat}"
                    cells.append(_cell(row[f"{column}_mean"], row[f"{column}_std"]))
            lines.append("| " + " | ".join(cells) + " |")
    else:
        lines.append("No run completed.")
    if len(failed):
        lines += ["", "## Failed runs", ""]
        lines.append("| run | " + " | ".join(keys) + " | seed | error |")
        lines.append("|" + "---|" * (len(keys) + 3))
        for _, row in failed.iterrows():
            cells = [row["run"], *(row[key] for key in keys), row["seed"], row["error"]]
            lines.append("| " + " | ".join(_escape(cell) for cell in cells) + " |")
    lines += [
        "",
        "Plots: `reward_vs_performance.png` (observed return against true performance), "
        "`learning_curves.png` (train-setting evaluations against timesteps).",
        "",
    ]
    return "\n".join(lines)


def load_curves(folder: Path, completed: pd.DataFrame) -> pd.DataFrame:
    """Every completed run's evaluations: group keys, seed, timesteps and eval metrics."""
    frames = []
    for _, run in completed.iterrows():
        path = folder / run["run"] / "metrics.jsonl"
        rows = _read_jsonl(path) if path.exists() else []
        rows = [row for row in rows if "timesteps" in row]
        if not rows:
            continue
        frame = pd.DataFrame(rows)
        for key in [*GROUP, "label", "seed"]:
            frame[key] = run[key]
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*GROUP, "label", "seed", "timesteps"])
    return pd.concat(frames, ignore_index=True)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            warnings.warn(f"{path}:{number}: skipping a line that is not JSON", stacklevel=2)
    return rows


def _scenario_axes(scenarios: Sequence[str], columns: int, height: float = 3.5):
    figure, axes = plt.subplots(
        max(len(scenarios), 1),
        columns,
        figsize=(5 * columns, height * max(len(scenarios), 1)),
        squeeze=False,
    )
    return figure, axes


def _label_colours(labels: Sequence[str]) -> dict[str, Any]:
    palette = plt.get_cmap("tab10")
    return {label: palette(k % 10) for k, label in enumerate(sorted(labels))}


def plot_reward_vs_performance(completed: pd.DataFrame, path: Path) -> Path:
    """Observed return (x) against true performance (y): a point per run and setting."""
    scenarios = sorted(completed["scenario"].unique()) if len(completed) else []
    figure, axes = _scenario_axes(scenarios, 1, height=4.0)
    colours = _label_colours(completed["label"].unique() if len(completed) else [])
    if not scenarios:
        axes[0, 0].text(0.5, 0.5, "no completed runs", ha="center", va="center")
    for ax, scenario in zip(axes[:, 0], scenarios):
        runs = completed[completed["scenario"] == scenario]
        for label in sorted(runs["label"].unique()):
            points = runs[runs["label"] == label]
            for setting in SETTINGS:
                ax.scatter(
                    points[f"{setting}_return_mean"],
                    points[f"{setting}_performance_mean"],
                    color=colours[label],
                    marker=MARKERS[setting],
                    label=f"{label} ({setting})",
                    alpha=0.8,
                )
        ax.set_title(scenario)
        ax.set_xlabel("observed return (episode mean)")
        ax.set_ylabel("true performance (episode mean)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_learning_curves(curves: pd.DataFrame, path: Path) -> Path:
    """Train-setting evaluation return and performance against timesteps, mean over seeds."""
    scenarios = sorted(curves["scenario"].unique()) if len(curves) else []
    figure, axes = _scenario_axes(scenarios, len(CURVES))
    colours = _label_colours(curves["label"].unique() if len(curves) else [])
    if not scenarios:
        axes[0, 0].text(0.5, 0.5, "no evaluations in metrics.jsonl", ha="center", va="center")
    for row, scenario in zip(axes, scenarios):
        runs = curves[curves["scenario"] == scenario]
        for ax, (stat, name) in zip(row, CURVES.items()):
            column = f"eval/train/{stat}"
            if column in runs:
                _plot_curve_group(ax, runs, column, colours)
            ax.set_title(f"{scenario}: {name} (train setting)")
            ax.set_xlabel("timesteps")
            ax.set_ylabel(f"{name} (mean over seeds)")
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _plot_curve_group(ax, runs: pd.DataFrame, column: str, colours: dict[str, Any]) -> None:
    for label, group in runs.groupby("label", sort=True):
        curve = group.dropna(subset=[column]).groupby("timesteps")[column].mean()
        if curve.empty:
            continue
        ax.plot(curve.index, curve.values, color=colours[label], marker=".", label=label)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m aligngym.report FOLDER [--out DIR]``."""
    parser = argparse.ArgumentParser(
        prog="aligngym-report",
        description="Turn a run or sweep folder into results.csv, report.md and PNG plots.",
    )
    parser.add_argument("folder", type=Path, help="a run or sweep folder (e.g. runs/<sweep>)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: FOLDER)")
    args = parser.parse_args(argv)
    try:
        out = build_report(args.folder, args.out)
    except NoRunsError as error:
        parser.exit(2, f"aligngym-report: error: {error}\n")
    print(f"report written to {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
