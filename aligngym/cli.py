"""The ``aligngym`` command (also ``python -m aligngym``).

Subcommands:

- ``aligngym run [OVERRIDES] [-m]``: a Hydra run or sweep (``aligngym run --help``);
- ``aligngym report FOLDER [--out DIR]``: tables and plots of a run or sweep folder;
- ``aligngym scenarios``: every scenario's card.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence

# launcher options of `hydra/launcher=...` -> (Hydra plugin module, what provides it)
LAUNCHER_PLUGINS = {
    "parallel": ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher"),
    "joblib": ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher"),
    "slurm": ("hydra_plugins.hydra_submitit_launcher", "aligngym[slurm]"),
    "slurm_gpu": ("hydra_plugins.hydra_submitit_launcher", "aligngym[slurm]"),
    "submitit_slurm": ("hydra_plugins.hydra_submitit_launcher", "aligngym[slurm]"),
    "submitit_local": ("hydra_plugins.hydra_submitit_launcher", "aligngym[slurm]"),
}

DESCRIPTION = """\
aligngym: a simulation lab where AI-alignment failures happen on purpose.

commands:
  run [OVERRIDES] [-m]   train and evaluate (Hydra overrides; -m sweeps); see `aligngym run --help`
  report FOLDER          tables and plots of a run or sweep folder
  scenarios              every scenario's card: reward, performance, failure event, source
"""


def missing_launcher(overrides: Sequence[str]) -> str | None:
    """Returns an error message if a ``hydra/launcher=`` override needs a missing plugin."""
    for override in overrides:
        key, _, value = override.partition("=")
        if key.lstrip("+~") != "hydra/launcher" or value not in LAUNCHER_PLUGINS:
            continue
        module, package = LAUNCHER_PLUGINS[value]
        if _module_missing(module):
            return (
                f"hydra/launcher={value} needs the Hydra plugin {module.split('.')[-1]}, which "
                f"is not installed; install it with `pip install {package}`"
            )
    return None


def _module_missing(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


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
    """Hands ``overrides`` (and flags such as ``-m``, ``--help``, ``--cfg job``) to Hydra."""
    problem = missing_launcher(overrides)
    if problem:
        print(f"aligngym run: error: {problem}", file=sys.stderr)
        return 2
    from aligngym.app import main as hydra_main

    saved = sys.argv
    sys.argv = ["aligngym run", *hydra_argv(overrides)]
    try:
        hydra_main()
    finally:
        sys.argv = saved
    return 0


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
    from aligngym.envs import cards

    print("\n\n".join(card.format() for card in cards()))
    return 0


COMMANDS = {"run": run, "report": report, "scenarios": scenarios}


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
