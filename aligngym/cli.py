"""The ``aligngym`` command (also ``python -m aligngym``).

Subcommands:

- ``aligngym run [OVERRIDES] [-m]``: a Hydra run or sweep (``aligngym run --help``). A sweep
  whose jobs all failed exits 1; one where some failed says how many on stderr and exits 0;
- ``aligngym report FOLDER [--out DIR]``: tables and plots of a run or sweep folder;
- ``aligngym scenarios``: every scenario's card;
- ``aligngym overoptimisation [OVERRIDES] [-m]``: the reward over-optimisation experiment
  (Gao et al. 2022; Coste et al. 2024), a Hydra app of its own (conf/overoptimisation.yaml);
- ``aligngym serve [--model M] [--port P]``: a local language model behind an
  OpenAI-compatible API, shared by every job of a sweep (``agent.model.backend=http``).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aligngym.app import SweepRecord

# launcher options of `hydra/launcher=...` -> (Hydra plugin module, what provides it)
LAUNCHER_PLUGINS = {
    "parallel": ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher"),
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher"),
    "slurm": ("hydra_plugins.hydra_submitit_launcher", "aligngym[slurm]"),
    "slurm_gpu": ("hydra_plugins.hydra_submitit_launcher", "aligngym[slurm]"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "aligngym[slurm]"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "aligngym[slurm]"),
}
# sweeper options of `hydra/sweeper=...` -> (Hydra plugin module, what provides it)
SWEEPER_PLUGINS = {
    "optuna": ("hydra_plugins.hydra_optuna_sweeper", "aligngym[optuna]"),
    "optuna_tpe": ("hydra_plugins.hydra_optuna_sweeper", "aligngym[optuna]"),
}
# the config groups whose options need a plugin
PLUGIN_GROUPS = {"hydra/launcher": LAUNCHER_PLUGINS, "hydra/sweeper": SWEEPER_PLUGINS}

DESCRIPTION = """\
aligngym: a simulation lab where AI-alignment failures happen on purpose.

commands:
  run [OVERRIDES] [-m]   train and evaluate (Hydra overrides; -m sweeps); see `aligngym run --help`
  report FOLDER          tables and plots of a run or sweep folder
  scenarios              every scenario's card: reward, performance, failure event, source
  overoptimisation [OVERRIDES] [-m]
                         a proxy reward from noisy labels optimised harder and harder (best-of-n,
                         RL): gold against sqrt(KL), Gao et al.'s forms fitted (Hydra overrides)
  serve [--model M] [--port P]
                         a local language model behind an OpenAI-compatible API, for
                         agent.model.backend=http (one loaded model for every job of a sweep)
"""


def missing_plugin(overrides: Sequence[str]) -> str | None:
    """Returns an error message if a ``hydra/launcher=`` or ``hydra/sweeper=`` override needs
    a Hydra plugin that is not installed, with the ``pip install`` that provides it."""
    for override in overrides:
        key, _, value = override.partition("=")
        group = key.lstrip("+~")
        plugins = PLUGIN_GROUPS.get(group, {})
        if value not in plugins:
            continue
        module, package = plugins[value]
        if _module_missing(module):
            requirement = f'"{package}"' if "[" in package else package
            return (
                f"{group}={value} needs the Hydra plugin {module.split('.')[-1]}, which "
                f"is not installed; install it with `pip install {requirement}`"
            )
    return None


def _module_missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def unknown_setting(overrides: Sequence[str]) -> str | None:
    """An error message if an ``env.train.<name>=`` / ``env.test.<name>=`` override names a
    setting that the chosen scenario does not have, listing the accepted ones.

    Hydra would refuse it too, but without saying what exists. The scenario is the one of the
    ``env=`` override (each of them, in a sweep ``env=a,b``), else the default ``boat_race``;
    where an experiment picks the env, Hydra's own check stands.
    """
    from aligngym.envs import SCENARIOS

    by_config = {record.config_name: record for record in SCENARIOS.values()}
    pairs = [o.partition("=") for o in overrides if "=" in o]
    envs = [value for key, _, value in pairs if key.lstrip("+~") == "env"]
    if not envs and any(key.lstrip("+~") == "experiment" for key, _, _ in pairs):
        return None
    names = [name for value in envs[-1:] or ["boat_race"] for name in value.split(",")]
    for key, _, _ in pairs:
        parts = key.lstrip("+~").split(".")
        if len(parts) != 3 or parts[0] != "env" or parts[1] not in ("train", "test"):
            continue
        for name in names:
            record = by_config.get(name)
            if record is not None and parts[2] not in record.parameters:
                return (
                    f"{key}: {record.id} has no setting {parts[2]!r}; accepted settings: "
                    f"{sorted(record.parameters)}"
                )
    return None


def hydra_argv(args: Sequence[str]) -> list[str]:
    """Puts Hydra's flags (``-m``, ``--cfg job``, ...) before the overrides, in their order.

    Hydra's parser takes the overrides as trailing positionals only; users write flags
    anywhere (``aligngym run seed=0,1 -m``). Overrides are the ``key=value`` and ``~key``
    tokens; every other token is a flag or a flag's value.
    """
    is_override = [not a.startswith("-") and ("=" in a or a.startswith("~")) for a in args]
    flags = [a for a, o in zip(args, is_override) if not o]
    return flags + [a for a, o in zip(args, is_override) if o]


def run(overrides: Sequence[str]) -> int:
    """Hands ``overrides`` (and flags such as ``-m``, ``--help``, ``--cfg job``) to Hydra.

    Returns 0, or for a sweep whose jobs all failed 1 (:func:`sweep_exit_code`).
    """
    problem = missing_plugin(overrides) or unknown_setting(overrides)
    if problem:
        print(f"aligngym run: error: {problem}", file=sys.stderr)
        return 2
    from aligngym import app

    saved = sys.argv
    sys.argv = ["aligngym run", *hydra_argv(overrides)]
    app.LAST_SWEEP = None
    try:
        app.main()
    finally:
        sys.argv = saved
    return sweep_exit_code(app.LAST_SWEEP)


def sweep_exit_code(sweep: SweepRecord | None) -> int:
    """After a sweep: counts its failed jobs from their summary.json files (jobs may have run
    in other processes or machines), says on stderr how many failed, and returns 1 if all did.

    ``sweep`` is the :class:`aligngym.app.SweepRecord` of the sweep, or None after a single
    run (then 0).
    """
    if sweep is None:
        return 0
    from aligngym.app import count_failed_jobs

    failed, total = count_failed_jobs(sweep.folder, since=sweep.started)
    if not failed:
        return 0
    level = "error" if failed == total else "warning"
    print(
        f"aligngym run: {level}: {failed} of {total} jobs failed in {sweep.folder}; "
        f"`aligngym report {sweep.folder}` lists their errors",
        file=sys.stderr,
    )
    return 1 if failed == total else 0


def report(argv: Sequence[str]) -> int:
    """``aligngym report FOLDER [--out DIR]``."""
    parser = argparse.ArgumentParser(
        prog="aligngym report",
        description="Turns a run or sweep folder into a table (scenario x agent x oversight, "
        "mean and spread over seeds) and plots, as Markdown, CSV and PNG.",
    )
    parser.add_argument("folder", help="a run folder or a sweep folder (runs/sweeps/...)")
    parser.add_argument("--out", default=None, help="where to write the report (default: FOLDER)")
    args = parser.parse_args(argv)
    from aligngym.report import build_report

    try:
        path = build_report(args.folder, out=args.out)
    except FileNotFoundError as error:
        print(f"aligngym report: error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


def scenarios(argv: Sequence[str]) -> int:
    """``aligngym scenarios``: prints every registered scenario's card."""
    parser = argparse.ArgumentParser(
        prog="aligngym scenarios",
        description="Lists every registered scenario's card: what the reward pays for, what "
        "the hidden performance measures, its events and failure event, its source, the "
        "expected result, and its train/test settings.",
    )
    parser.parse_args(argv)
    from aligngym.envs import SCENARIOS

    print("\n\n".join(SCENARIOS[env_id].format() for env_id in sorted(SCENARIOS)))
    return 0


def overoptimisation(overrides: Sequence[str]) -> int:
    """``aligngym overoptimisation [OVERRIDES] [-m]``: hands the overrides to the experiment's
    Hydra app (aligngym/oversight/overoptimisation/app.py)."""
    problem = missing_plugin(overrides)
    if problem:
        print(f"aligngym overoptimisation: error: {problem}", file=sys.stderr)
        return 2
    from aligngym.oversight.overoptimisation import app

    saved = sys.argv
    sys.argv = ["aligngym overoptimisation", *hydra_argv(overrides)]
    try:
        app.main()
    finally:
        sys.argv = saved
    return 0


def serve(argv: Sequence[str]) -> int:
    """``aligngym serve``: see :mod:`aligngym.agents.llm.server`."""
    try:
        from aligngym.agents.llm.server import serve as serve_model
    except ImportError as error:
        print(f"aligngym serve: error: {error}", file=sys.stderr)
        return 2
    return serve_model(argv)


COMMANDS = {
    "run": run,
    "report": report,
    "scenarios": scenarios,
    "overoptimisation": overoptimisation,
    "serve": serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aligngym`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="aligngym",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=sorted(COMMANDS), help="the command to run")
    if not argv or argv[0] not in COMMANDS:
        # prints help for -h/--help, or the accepted commands for anything else
        parser.parse_args(argv[:1] or ["--help"])
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
