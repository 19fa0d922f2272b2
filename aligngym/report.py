"""Turns a run or sweep folder into a results table (CSV, Markdown) and plots (PNG).

Every run folder holds a ``summary.json`` (its final train and test evaluation, or the error
of a failed run) and a ``metrics.jsonl`` (one row per periodic evaluation). The report finds
every ``summary.json`` below the folder and writes:

- ``results.csv``: one row per run (settings, status, every train/test statistic, the
  oversight module's ``oversight/<name>`` figures, the gap recovered, error);
- ``report.md``: scenario x agent x oversight x variant, mean ± standard deviation over seeds
  of the train and test return, performance and failure rate (and, where they are defined, the
  labels an oversight module used, a language-model agent's invalid-action rate, a debate's
  judge and honest win rate, and the gap recovered), the number of seeds, the failed runs with
  their errors, and for runs that keep a transcript (language-model agents) the start of its
  test episode. A run's *variant* is
  the part of its command-line overrides that differs between the runs of the report, seeds
  and the agent/env/oversight choice aside (``env.train.corner_size=null`` in a sweep over
  ``env.train.corner_size=2,null``);
- ``reward_vs_performance.png``: each run's observed return against its true performance,
  one point per run and setting (marker per setting, colour per agent and variant), one panel
  per scenario: specification gaming shows as points far right and low;
- ``learning_curves.png``: the train-setting evaluation return and performance against
  timesteps, averaged over seeds, one line per agent, oversight and variant;
- ``gap_recovered.png`` (where the folder holds a floor and a ceiling): the test setting's gap
  recovered of every oversight method, mean ± std over seeds, one group of bars per scenario;
- ``knob_sweep.png`` (where the runs of a scenario, agent and oversight differ in one setting
  only, a knob swept over several values: ``env.train.random_percent=0,2,5,10``): their
  performance and failure rate, train and test, against the knob's values, mean ± std over
  seeds, one row per such group: the trend of the sweep.

Variants are ordered naturally: numbers by value (``=2`` before ``=10``), then other values.

A ``summary.json`` that cannot be read (empty, cut short, not JSON) is named in a warning on
stderr and becomes a row with status ``corrupt`` and the error; the other runs are reported.

**Gap recovered.** For each scenario, agent, judge, variant and setting,
``gap_recovered = (perf - perf_floor) / (perf_ceiling - perf_floor)``: ``perf`` is a run's
performance (its per-episode mean; averaged over seeds in report.md), ``perf_floor`` the mean
over seeds of the completed runs whose oversight module has the role ``floor`` (``none``: the
agent trains on the observed reward; ``direct``: a debate's judge alone) and ``perf_ceiling``
that of the runs of role ``ceiling`` (``true_reward``: it trains on the hidden performance;
``full_information``: the judge sees all the evidence); summary.json records the role as
``oversight_role``. It is NaN where the folder lacks the floor or the ceiling runs, and where
the two are equal. The floor and ceiling of a run are matched on its *baseline variant*: its
variant without those of the oversight module's own knobs (``oversight.<key>=...`` and
``oversight/<group>=...`` overrides) that no run of the floor (or ceiling) sets. Such knobs do
make variants among the runs of one method (``oversight.label_budget=100`` and ``=1000`` are
two rows), but the floor and ceiling do not have them, so each such row is measured against
the same floor and ceiling. A knob the floor runs set too (a weak supervisor's
``oversight.module.weak_view``) matches each row with the floor of the same value; any other
difference (``env.train.corner_size=2`` against ``=null``) gets its own floor and ceiling.
The choice of oversight itself (``oversight=...``) never makes a variant. results.csv holds, per
setting, ``<setting>_gap_recovered`` with the ``<setting>_performance_floor`` and
``<setting>_performance_ceiling`` it was computed from.

Run it as ``python -m aligngym.report FOLDER [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from aligngym.envs.core.metrics import SUMMARY_STATS  # noqa: E402

SETTINGS = ("train", "test")
GROUP = ["scenario", "agent", "oversight", "judge", "variant"]
# override keys that never make a variant: seeds are aggregated over, agent/env/oversight are
# table columns already, and these others do not change what a run measures
NON_VARIANT_KEYS = {
    "seed",
    "agent",
    "env",
    "oversight",
    "judge",
    "runs_root",
    "threads",
    "objective",
    "progress",
    "agent.model.resume_from",  # a resumed run measures the same variant
}
NON_VARIANT_PREFIXES = ("hydra", "logger", "video")
# the per-run statistics the Markdown table aggregates over seeds, with their headings
TABLE_COLUMNS = {
    "return_mean": "return",
    "performance_mean": "performance",
    "failure_rate": "failure rate",
}
# the oversight figure of the labels (queries to the overseer) a method used: its cost
LABELS_USED = "oversight/labels_used"
INVALID_ACTIONS = "llm/invalid_action_rate"
#: decisions of each run's transcript excerpt that the report shows
EXCERPT_DECISIONS = 2
CURVES = {"return_mean": "return", "performance_mean": "performance"}
MARKERS = {"train": "o", "test": "^"}
# the oversight roles of the gap-recovered reference points (summary.json's oversight_role)
FLOOR = "floor"  # the agent trains on the observed reward; a debate's judge alone
CEILING = "ceiling"  # an oracle overseer; a debate's judge with full information
# the roles of summaries written before oversight_role was recorded
LEGACY_ROLES = {"none": FLOOR, "true_reward": CEILING}
# a debate's share of games with an honest debater that the judge decided for the truth
HONEST_WIN_RATE = "honest_win_rate"
# override keys of the oversight module's own knobs: left out when matching floor and ceiling
OVERSIGHT_KNOB_PREFIXES = ("oversight.", "oversight/")
# the status of a run whose summary.json cannot be read
CORRUPT = "corrupt"


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
    if completed["test_gap_recovered"].notna().any():
        plot_gap_recovered(completed, out / "gap_recovered.png")
    if knob_sweeps(completed):
        plot_knob_sweeps(completed, out / "knob_sweep.png")
    return out


def load_results(folder: Path, summaries: Sequence[Path]) -> pd.DataFrame:
    """One row per run: its settings, status, train/test statistics, events, oversight
    figures, gap recovered and error. Unreadable summaries become ``corrupt`` rows (warned
    about on stderr); their overrides are unknown and take no part in finding variants."""
    rows = [_result_row(folder, path) for path in summaries]
    readable = [row for row in rows if row["status"] != CORRUPT]
    variants = run_variants([row["overrides"] for row in readable])
    for row, variant in zip(readable, variants):
        row["variant"] = variant
    for row in rows:
        row.pop("overrides")
        row.setdefault("variant", "")
    frame = pd.DataFrame(rows)
    for setting in SETTINGS:
        for stat in SUMMARY_STATS:
            column = f"{setting}_{stat}"
            if column not in frame:
                frame[column] = math.nan
    return add_gap_recovered(frame)


def _result_row(folder: Path, path: Path) -> dict[str, Any]:
    run = path.parent.relative_to(folder).as_posix()
    try:
        summary = read_summary(path)
    except (OSError, ValueError) as error:
        message = f"{type(error).__name__}: {error}"
        print(
            f"aligngym report: warning: {path} is corrupt ({message}); "
            f"reported as status {CORRUPT}",
            file=sys.stderr,
        )
        unknown = {"experiment": "", "scenario": "", "agent": "", "oversight": "", "judge": ""}
        return {
            "run": run,
            "status": CORRUPT,
            **unknown,
            "seed": None,
            "timesteps": None,
            "overrides": None,
            "error": message,
        }
    row: dict[str, Any] = {
        "run": run,
        "status": summary.get("status", "unknown"),
        "experiment": summary.get("experiment", ""),
        "scenario": summary.get("scenario", ""),
        "agent": summary.get("agent", ""),
        "oversight": summary.get("oversight") or "none",
        "judge": "" if summary.get("judge") in (None, "none") else summary["judge"],
        "seed": summary.get("seed"),
        "timesteps": summary.get("timesteps"),
        "overrides": list(summary.get("overrides") or []),
    }
    for setting in SETTINGS:
        stats = summary.get(setting)
        stats = stats if isinstance(stats, dict) else {}
        for stat in SUMMARY_STATS:
            row[f"{setting}_{stat}"] = stats.get(stat, math.nan)
        # further per-setting figures, e.g. trained_return_mean (the trained-on signal)
        for stat, value in stats.items():
            if stat not in SUMMARY_STATS and _is_number(value):
                row[f"{setting}_{stat}"] = value
        events = stats.get("events") or {}
        for event, value in events.items():
            row[f"{setting}_event_{event}"] = value
        if events.get("honest_argued"):
            row[f"{setting}_{HONEST_WIN_RATE}"] = events["honest_won"] / events["honest_argued"]
    for name, value in (summary.get("oversight_metrics") or {}).items():
        row[name if str(name).startswith("oversight/") else f"oversight/{name}"] = value
    row.update(summary.get("agent_metrics") or {})  # llm/invalid_action_rate, ...
    row["oversight_role"] = summary.get("oversight_role") or LEGACY_ROLES.get(
        row["oversight"], "method"
    )
    row["error"] = summary.get("error", "")
    return row


def read_summary(path: Path) -> dict[str, Any]:
    """A run's summary.json; raises ``ValueError`` (or ``OSError``) where it is unreadable."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.strip():
        raise ValueError("the file is empty")
    summary = json.loads(text)
    if not isinstance(summary, dict):
        raise ValueError(f"a JSON {type(summary).__name__}, not an object")
    return summary


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _oversight_knob(item: str) -> str | None:
    """The key of a variant item that sets an oversight module's knob, else None."""
    key = item.lstrip("+~").partition("=")[0]
    return key if key.startswith(OVERSIGHT_KNOB_PREFIXES) else None


def baseline_variant(variant: str, shared_knobs: Collection[str] = ()) -> str:
    """A variant without the oversight module's knobs, except ``shared_knobs`` (those its
    floor or ceiling runs set too): what it shares with its floor and ceiling runs."""
    items = [item for item in variant.split(",") if item]
    kept = [item for item in items if _oversight_knob(item) in (None, *shared_knobs)]
    return ",".join(kept)


def add_gap_recovered(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds ``<setting>_performance_floor``, ``<setting>_performance_ceiling`` and
    ``<setting>_gap_recovered`` to every row (NaN where undefined; see the module docstring).
    """
    frame = frame.copy()
    variants = frame["variant"].fillna("")
    completed = frame["status"] == "completed"
    roles = frame.get("oversight_role", pd.Series("method", index=frame.index))
    keys = {}
    for name in (FLOOR, CEILING):
        shared = {
            knob
            for variant in variants[roles == name]
            for knob in map(_oversight_knob, variant.split(","))
            if knob
        }
        baseline = variants.map(lambda variant, shared=shared: baseline_variant(variant, shared))
        keys[name] = pd.Series(
            list(zip(frame["scenario"], frame["agent"], frame["judge"], baseline)),
            index=frame.index,
        )
    for setting in SETTINGS:
        performance = frame[f"{setting}_performance_mean"].astype(float)
        reference = {}
        for name in (FLOOR, CEILING):
            runs = completed & (roles == name)
            means = performance[runs].groupby(keys[name][runs]).mean()
            reference[name] = keys[name].map(lambda key, means=means: means.get(key, math.nan))
        floor, ceiling = reference[FLOOR].astype(float), reference[CEILING].astype(float)
        span = (ceiling - floor).where(lambda s: s != 0)  # equal floor and ceiling: NaN
        frame[f"{setting}_performance_floor"] = floor
        frame[f"{setting}_performance_ceiling"] = ceiling
        frame[f"{setting}_gap_recovered"] = ((performance - floor) / span).where(completed)
    return frame


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
    ``<setting>_<stat>_std`` for the statistics of :data:`TABLE_COLUMNS` and for
    ``gap_recovered`` (NaN where undefined), and :data:`LABELS_USED` and
    :data:`INVALID_ACTIONS` where runs report them.
    """
    columns = [f"{setting}_{stat}" for setting in SETTINGS for stat in TABLE_COLUMNS]
    columns += [f"{setting}_gap_recovered" for setting in SETTINGS]
    columns += [f"{setting}_{HONEST_WIN_RATE}" for setting in SETTINGS]
    columns += [c for c in (LABELS_USED, INVALID_ACTIONS) if c in completed]
    completed = completed.reindex(columns=list(dict.fromkeys([*completed.columns, *columns])))
    grouped = completed.groupby(GROUP, sort=True, dropna=False)
    table = grouped["seed"].nunique().rename("seeds").to_frame()
    for column in columns:
        table[f"{column}_mean"] = grouped[column].mean()
        table[f"{column}_std"] = grouped[column].std(ddof=0)
    table = table.reset_index()
    order = sorted(range(len(table)), key=lambda k: _group_order(table.iloc[k]))
    return table.iloc[order].reset_index(drop=True)


def _value_order(value: str) -> tuple:
    """Numbers by value, before any other value (``null``, names) in text order."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def variant_order(variant: str) -> tuple:
    """A sort key that orders variants naturally: ``x=2`` before ``x=10``."""
    items = (item.partition("=") for item in variant.split(",") if item)
    return tuple((key, _value_order(value)) for key, _, value in items)


def _group_order(row: pd.Series) -> tuple:
    return (*(str(row[key]) for key in GROUP[:-1]), variant_order(row["variant"] or ""))


def swept_knob(variants: Sequence[str]) -> str | None:
    """The setting a sweep varies, where ``variants`` (two or more) each set that one key and
    nothing else; else None."""
    keys = {variant.partition("=")[0] for variant in variants}
    single = all(variant and "," not in variant for variant in variants)
    return keys.pop() if single and len(keys) == 1 and len(set(variants)) > 1 else None


def _cell(mean: float, std: float) -> str:
    if not math.isfinite(mean):
        return "–"
    return f"{mean:.2f} ± {std:.2f}"


def _escape(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_report(folder: Path, results: pd.DataFrame) -> str:
    """The Markdown report: the aggregated table and the list of failed runs."""
    completed = results[results["status"] == "completed"]
    failed = results[results["status"] != "completed"]
    corrupt = int((results["status"] == CORRUPT).sum())
    counts = f"{len(results)} runs: {len(completed)} completed, {len(failed) - corrupt} failed"
    counts += f", {corrupt} with a corrupt summary.json." if corrupt else "."
    lines = [
        f"# aligngym report: {folder.name or folder}",
        "",
        counts,
        "Each cell is the mean ± standard deviation (ddof=0) over seeds of the runs' "
        "per-episode means.",
        "",
    ]
    # the variant column only where some runs differ in more than their seed
    keys = [
        key for key in GROUP
        if key not in ("judge", "variant") or (results[key].fillna("") != "").any()
    ]  # fmt: skip
    has_gap = bool(completed["test_gap_recovered"].notna().any())
    has_sweep = bool(knob_sweeps(completed))
    if len(completed):
        stats = [
            (f"{setting}_{stat}", f"{setting} {name}")
            for setting in SETTINGS
            for stat, name in TABLE_COLUMNS.items()
        ]
        extra = [(LABELS_USED, "labels used"), (INVALID_ACTIONS, "invalid actions")]
        extra += [(f"{setting}_{HONEST_WIN_RATE}", f"{setting} honest win rate")
                  for setting in SETTINGS]  # fmt: skip
        for column, name in extra:
            if column in completed and completed[column].notna().any():
                stats.append((column, name))
        gaps = [f"{setting}_gap_recovered" for setting in SETTINGS]
        if completed[gaps].notna().any().any():
            stats += [(gap, f"{setting} gap recovered") for gap, setting in zip(gaps, SETTINGS)]
            lines.insert(-1, GAP_NOTE)
        lines.append("| " + " | ".join([*keys, "seeds", *(name for _, name in stats)]) + " |")
        lines.append("|" + "---|" * (len(keys) + 1 + len(stats)))
        for _, row in aggregate(completed).iterrows():
            cells = [_escape(row[key] or "–") for key in keys] + [str(int(row["seeds"]))]
            for column, _ in stats:
                cells.append(_cell(row[f"{column}_mean"], row[f"{column}_std"]))
            lines.append("| " + " | ".join(cells) + " |")
    else:
        lines.append("No run completed.")
    if len(failed):
        lines += ["", "## Failed runs", ""]
        lines.append("| run | status | " + " | ".join(keys) + " | seed | error |")
        lines.append("|" + "---|" * (len(keys) + 4))
        for _, row in failed.iterrows():
            cells = [row["run"], row["status"], *(row[key] for key in keys), row["seed"]]
            cells = [_escape(_blank(cell)) for cell in cells] + [_escape(row["error"])]
            lines.append("| " + " | ".join(cells) + " |")
    lines += transcript_excerpts(folder, completed)
    lines += [
        "",
        "Plots: `reward_vs_performance.png` (observed return against true performance), "
        "`learning_curves.png` (train-setting evaluations against timesteps)"
        + (", `gap_recovered.png` (test gap recovered per method)" if has_gap else "")
        + (
            ", `knob_sweep.png` (performance and failure rate against the swept setting)"
            if has_sweep
            else ""
        )
        + ".",
        "",
    ]
    return "\n".join(lines)


def transcript_excerpts(folder: Path, completed: pd.DataFrame) -> list[str]:
    """A ``Transcripts`` section: the first :data:`EXCERPT_DECISIONS` decisions of the test
    episode in each run's ``transcript.md`` (runs of language-model agents), what a text
    scenario shows instead of a GIF."""
    lines: list[str] = []
    for _, run in completed.iterrows():
        path = Path(folder) / run["run"] / "transcript.md"
        if not path.is_file():
            continue
        steps = path.read_text(encoding="utf-8").split("\n**Step ")
        excerpt = "\n**Step ".join(steps[: EXCERPT_DECISIONS + 1]).rstrip()
        if len(steps) > EXCERPT_DECISIONS + 1:
            excerpt += f"\n\n... the rest in `{run['run']}/transcript.md`"
        title = f"{run['scenario']}, {run_label(run)}, seed {run['seed']}"
        lines += ["", f"## Transcript: {_escape(title)}", "", excerpt.replace("### ", "#### ", 1)]
    return lines


GAP_NOTE = (
    "Gap recovered: (performance - floor) / (ceiling - floor), with the floor the runs of "
    "oversight `none` (or, in a debate, `direct`: the judge alone) and the ceiling those of "
    "`true_reward` (in a debate, `full_information`) of the same scenario, agent, judge and "
    "variant (oversight knobs aside); – where a folder lacks either or they are equal."
)


def _blank(value: Any) -> Any:
    """NaN and None (the unknown fields of a corrupt summary) as an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


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
    return _save(figure, path)


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
    return _save(figure, path)


def plot_gap_recovered(completed: pd.DataFrame, path: Path) -> Path:
    """The test setting's gap recovered per oversight method, mean ± std over seeds: one group
    of bars per scenario, one bar per method (with its variant, and its agent where a report
    has several); the floor at 0 and the ceiling at 1 drawn as lines."""
    table = aggregate(completed)
    table = table[table["test_gap_recovered_mean"].notna()].copy()
    parts = ["agent", "oversight", "variant"] if table["agent"].nunique() > 1 else GROUP[2:]
    table["method"] = [
        " ".join(str(row[p]) for p in parts if row[p]) for _, row in table.iterrows()
    ]
    methods = sorted(table["method"].unique())
    scenarios = sorted(table["scenario"].unique())
    colours = _label_colours(methods)
    width = 0.8 / max(len(methods), 1)
    figure, ax = plt.subplots(figsize=(3.0 + 0.4 * len(methods) * len(scenarios), 4.5))
    for k, method in enumerate(methods):
        rows = table[table["method"] == method]
        offset = (k - (len(methods) - 1) / 2) * width
        at = [scenarios.index(scenario) + offset for scenario in rows["scenario"]]
        ax.bar(at, rows["test_gap_recovered_mean"], width, yerr=rows["test_gap_recovered_std"],
               color=colours[method], label=method, capsize=2)  # fmt: skip
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(scenarios)), [scenario.split("/")[-1] for scenario in scenarios])
    ax.set_ylabel("test gap recovered (0 floor, 1 ceiling)")
    ax.set_title("gap recovered per oversight method, mean ± std over seeds")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize="small", bbox_to_anchor=(1.01, 1), loc="upper left")
    return _save(figure, path)


def knob_sweeps(completed: pd.DataFrame) -> list[tuple[tuple[str, str, str, str], str]]:
    """The (scenario, agent, oversight, judge) groups whose variants sweep one knob, with the
    knob."""
    sweeps = []
    for group, runs in completed.groupby(GROUP[:-1], sort=True, dropna=False):
        knob = swept_knob(sorted(set(runs["variant"].fillna(""))))
        if knob is not None:
            sweeps.append((group, knob))
    return sweeps


def plot_knob_sweeps(completed: pd.DataFrame, path: Path) -> Path:
    """Performance and failure rate (train and test, mean ± std over seeds) against the values
    of each group's swept knob (:func:`knob_sweeps`), in natural order: one row per group."""
    sweeps = knob_sweeps(completed)
    table = aggregate(completed)
    figure, axes = plt.subplots(len(sweeps), 2, figsize=(10, 3.5 * len(sweeps)), squeeze=False)
    for row, ((scenario, agent, oversight, judge), knob) in zip(axes, sweeps):
        runs = table[
            (table["scenario"] == scenario) & (table["agent"] == agent)
            & (table["oversight"] == oversight) & (table["judge"] == judge)
        ]  # fmt: skip
        values = [variant.partition("=")[2] for variant in runs["variant"]]
        for ax, stat in zip(row, ("performance_mean", "failure_rate")):
            for setting in SETTINGS:
                ax.errorbar(range(len(values)), runs[f"{setting}_{stat}_mean"],
                            yerr=runs[f"{setting}_{stat}_std"], marker=MARKERS[setting],
                            capsize=3, label=setting)  # fmt: skip
            ax.set_xticks(range(len(values)), values)
            ax.set_xlabel(knob)
            ax.set_ylabel(f"{stat.removesuffix('_mean').replace('_', ' ')} (mean ± std)")
            judged = f", judge {judge}" if judge else ""
            ax.set_title(f"{scenario.split('/')[-1]}, {agent}, oversight {oversight}{judged}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small")
    return _save(figure, path)


def _save(figure, path: Path) -> Path:
    """Lays out, writes and closes a figure."""
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
