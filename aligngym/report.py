"""Turns a run or sweep folder into a results table (CSV, Markdown) and plots (PNG).

Every run folder holds a ``summary.json`` (its final train and test evaluation, or the error
of a failed run) and a ``metrics.jsonl`` (one row per periodic evaluation). The report finds
every ``summary.json`` below the folder and writes:

- ``results.csv``: one row per run (settings, status, every train/test statistic, error);
- ``report.md``: scenario x agent x oversight, mean ± standard deviation over seeds of the
  train and test return, performance and failure rate, the number of seeds, and the failed
  runs with their errors;
- ``reward_vs_performance.png``: each run's observed return against its true performance,
  one point per run and setting (marker per setting, colour per agent), one panel per
  scenario: specification gaming shows as points far right and low;
- ``learning_curves.png``: the train-setting evaluation return and performance against
  timesteps, averaged over seeds, one line per agent and oversight.

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

SETTINGS = ("train", "test")
STATS = (
    "return_mean",
    "return_std",
    "performance_mean",
    "performance_std",
    "failure_rate",
    "length_mean",
    "episodes",
)
GROUP = ["scenario", "agent", "oversight"]
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
    completed = results[results["status"] == "completed"]
    (out / "report.md").write_text(markdown_report(folder, results))
    plot_reward_vs_performance(completed, out / "reward_vs_performance.png")
    curves = load_curves(folder, completed)
    plot_learning_curves(curves, out / "learning_curves.png")
    return out


def load_results(folder: Path, summaries: Sequence[Path]) -> pd.DataFrame:
    """One row per run: its settings, status, train/test statistics, events and error."""
    rows = [_result_row(folder, path) for path in summaries]
    frame = pd.DataFrame(rows)
    for setting in SETTINGS:
        for stat in STATS:
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
    }
    for setting in SETTINGS:
        stats = summary.get(setting) or {}
        for stat in STATS:
            row[f"{setting}_{stat}"] = stats.get(stat, math.nan)
        for event, value in (stats.get("events") or {}).items():
            row[f"{setting}_event_{event}"] = value
    row["error"] = summary.get("error", "")
    return row


def aggregate(completed: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation (over seeds, ddof=0) per scenario, agent and oversight.

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
    if len(completed):
        headings = [f"{setting} {name}" for setting in SETTINGS for name in TABLE_COLUMNS.values()]
        lines.append("| " + " | ".join([*GROUP, "seeds", *headings]) + " |")
        lines.append("|" + "---|" * (len(GROUP) + 1 + len(headings)))
        for _, row in aggregate(completed).iterrows():
            cells = [_escape(row[key]) for key in GROUP] + [str(int(row["seeds"]))]
            for setting in SETTINGS:
                for stat in TABLE_COLUMNS:
                    column = f"{setting}_{stat}"
                    cells.append(_cell(row[f"{column}_mean"], row[f"{column}_std"]))
            lines.append("| " + " | ".join(cells) + " |")
    else:
        lines.append("No run completed.")
    if len(failed):
        lines += ["", "## Failed runs", ""]
        lines.append("| run | " + " | ".join(GROUP) + " | seed | error |")
        lines.append("|---|---|---|---|---|---|")
        for _, row in failed.iterrows():
            cells = [row["run"], *(row[key] for key in GROUP), row["seed"], row["error"]]
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
        for key in [*GROUP, "seed"]:
            frame[key] = run[key]
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*GROUP, "seed", "timesteps"])
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


def _agent_colours(agents: Sequence[str]) -> dict[str, Any]:
    palette = plt.get_cmap("tab10")
    return {agent: palette(k % 10) for k, agent in enumerate(sorted(agents))}


def plot_reward_vs_performance(completed: pd.DataFrame, path: Path) -> Path:
    """Observed return (x) against true performance (y): a point per run and setting."""
    scenarios = sorted(completed["scenario"].unique()) if len(completed) else []
    figure, axes = _scenario_axes(scenarios, 1, height=4.0)
    colours = _agent_colours(completed["agent"].unique() if len(completed) else [])
    if not scenarios:
        axes[0, 0].text(0.5, 0.5, "no completed runs", ha="center", va="center")
    for ax, scenario in zip(axes[:, 0], scenarios):
        runs = completed[completed["scenario"] == scenario]
        for (agent, setting), colour in _pairs(runs["agent"].unique(), colours):
            points = runs[runs["agent"] == agent]
            ax.scatter(
                points[f"{setting}_return_mean"],
                points[f"{setting}_performance_mean"],
                color=colour,
                marker=MARKERS[setting],
                label=f"{agent} ({setting})",
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


def _pairs(agents, colours):
    return [((agent, setting), colours[agent]) for agent in sorted(agents) for setting in SETTINGS]


def plot_learning_curves(curves: pd.DataFrame, path: Path) -> Path:
    """Train-setting evaluation return and performance against timesteps, mean over seeds."""
    scenarios = sorted(curves["scenario"].unique()) if len(curves) else []
    figure, axes = _scenario_axes(scenarios, len(CURVES))
    colours = _agent_colours(curves["agent"].unique() if len(curves) else [])
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
    styles = ["-", "--", ":", "-."]
    oversights = sorted(runs["oversight"].unique())
    for (agent, oversight), group in runs.groupby(["agent", "oversight"], sort=True):
        curve = group.dropna(subset=[column]).groupby("timesteps")[column].mean()
        if curve.empty:
            continue
        ax.plot(
            curve.index,
            curve.values,
            color=colours[agent],
            linestyle=styles[oversights.index(oversight) % len(styles)],
            marker=".",
            label=agent if oversight == "none" else f"{agent} / {oversight}",
        )


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
