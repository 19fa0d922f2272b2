"""A job on a supervision task (the dataset kind of scenario): the oversight module's study.

What :meth:`aligngym.experiment.Job.run` does for a task (:mod:`aligngym.envs.core.task`): it
builds the oversight module (``oversight=``, a module of the dataset kind, e.g. a best-of-N
selector), the agent (``agent=``, e.g. the generator of solutions) and the task's train and
test settings, and hands them to the module's ``study``. What it measured is written as every
job's is: one row per point of its curve to ``metrics.jsonl`` and W&B, ``summary.json`` with
each setting's records summarised (performance, events, failure rate) and the agent's own
figures where it reports some (a language model's unparsed steps), and the agent's settings
or weights as the model.
"""

from __future__ import annotations

import logging
from pathlib import Path

from aligngym.agents.base import ReportsMetrics
from aligngym.envs.core.metrics import summarize
from aligngym.envs.registry import make
from aligngym.experiment import Job
from aligngym.run_logging import RunLog
from aligngym.validation import SETTINGS, RunSpec, build_agent, build_oversight

log = logging.getLogger(__name__)


def run_study(job: Job, spec: RunSpec) -> None:
    """Runs ``job`` on a supervision task (see the module docstring)."""
    cfg = job.cfg
    module = build_oversight(cfg, spec)
    agent = job.agent = build_agent(cfg, spec)
    job.run_log = RunLog(job.folder, cfg, cfg.logger)
    tasks = {setting: make(spec.env_id, **spec.setting(setting)) for setting in SETTINGS}
    log.info("study %s on %s with %s", module.name, spec.env_id, cfg.agent.name)
    result = module.study(agent, tasks, seed=spec.seed)
    if isinstance(agent, ReportsMetrics):  # the LLM solver's unparsed-step rate
        job.summary["agent_metrics"] = agent.metrics()
        for row in result.rows:
            row.update(job.summary["agent_metrics"])
    for row in result.rows:
        job.run_log.log_row(row)
    job.summary.update(
        model=Path(agent.save(job.folder / "model")).name,
        oversight_role=module.role,
        oversight_metrics=result.metrics,
        **{setting: summarize(result.records[setting]) for setting in SETTINGS},
    )
