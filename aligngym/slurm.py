"""A SLURM sweep's request checked against what the cluster offers, before anything is submitted.

SLURM queues a job that asks for more than any node of its partition has (CPUs, memory,
GPUs) or for longer than the partition allows, and by default it then pends forever (reason
``PartitionConfig`` or ``PartitionTimeLimit``). :class:`RequestCheck`, a Hydra callback
(``hydra.callbacks`` in conf/config.yaml), reads the partition's nodes with ``sinfo`` when a
``hydra/launcher=slurm`` (or ``slurm_gpu``) sweep starts and stops it (exit 2) with a message
that names the override to set.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

# the launcher whose sweeps are checked (hydra-submitit-launcher's SLURM launcher)
SLURM_LAUNCHER = "SlurmLauncher"
# one line per node and partition: partition (default marked *), CPUs, memory (MB), GRES,
# time limit
SINFO = ["sinfo", "--noheader", "--Node", "--format=%P|%c|%m|%G|%l"]
# a GPU in a node's GRES: gpu:4, gpu:a100:4, gpu:a100:4(S:0-1)
GPU_GRES = re.compile(r"gpu(?::[^:,(]+)?:(\d+)")
# the launcher settings that make a job's request (the rest need not be resolved)
REQUEST_KEYS = (
    "partition", "cpus_per_task", "tasks_per_node", "mem_gb", "gpus_per_node", "timeout_min",
    "signal_delay_s",
)  # fmt: skip
LOCAL_CLUSTER = "`bash scripts/slurm-local.sh start` (as root) runs one on this machine"


@dataclass
class Partition:
    """What the largest node of a partition offers (each resource's maximum over its nodes)."""

    name: str
    default: bool
    cpus: int = 0
    memory_mb: int = 0
    gpus: int = 0
    max_minutes: float = math.inf


def parse_minutes(limit: str) -> float:
    """A SLURM time limit (``infinite``, ``[days-]hours:minutes:seconds``, ``minutes:seconds``,
    ``minutes``) in minutes."""
    if not limit[:1].isdigit():
        return math.inf
    days, _, clock = limit.rpartition("-")
    parts = [int(part) for part in clock.split(":")]
    hours, minutes, seconds = ([0, 0] + parts)[-3:] if len(parts) > 1 else (0, parts[0], 0)
    return int(days or 0) * 1440 + hours * 60 + minutes + seconds / 60


def parse_sinfo(output: str) -> dict[str, Partition]:
    """The partitions in the output of :data:`SINFO`, by name."""
    partitions: dict[str, Partition] = {}
    for line in output.splitlines():
        fields = line.strip().split("|")
        if len(fields) != 5:
            continue
        name, cpus, memory, gres, limit = fields
        default = name.endswith("*")
        part = partitions.setdefault(name.rstrip("*"), Partition(name.rstrip("*"), default))
        part.cpus = max(part.cpus, int(cpus))
        part.memory_mb = max(part.memory_mb, int(memory))
        part.gpus = max(part.gpus, sum(int(n) for n in GPU_GRES.findall(gres)))
        part.max_minutes = parse_minutes(limit)
    return partitions


def read_partitions() -> dict[str, Partition]:
    """The cluster's partitions from ``sinfo``; raises :class:`RuntimeError` with the reason
    when there is no cluster to ask."""
    if shutil.which(SINFO[0]) is None:
        raise RuntimeError(
            "hydra/launcher=slurm submits jobs to SLURM, but its commands (sinfo, sbatch) are "
            f"not on this machine: run the sweep where they are, or {LOCAL_CLUSTER}"
        )
    result = subprocess.run(SINFO, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(
            f"sinfo failed ({result.stderr.strip() or result.returncode}): is the SLURM "
            f"cluster up? ({LOCAL_CLUSTER})"
        )
    return parse_sinfo(result.stdout)


def pick_partition(name: str | None, partitions: dict[str, Partition]) -> Partition:
    """The partition a job goes to: ``name``, else the cluster's default; raises ValueError."""
    names = ", ".join(sorted(partitions)) or "none"
    if name is None:
        default = [part for part in partitions.values() if part.default]
        if not default:
            raise ValueError(
                f"the cluster has no default partition; set hydra.launcher.partition to one "
                f"of: {names}"
            )
        return default[0]
    if name not in partitions:
        raise ValueError(
            f"hydra.launcher.partition={name}: no such partition; the cluster has: {names}"
        )
    return partitions[name]


# what the messages say after the override to set
ELSEWHERE = "or pick another partition with hydra.launcher.partition=..."


def cpus_problem(launcher: Mapping[str, Any], part: Partition) -> str | None:
    """CPUs per node: ``cpus_per_task`` (which follows ``threads``) x ``tasks_per_node``."""
    cpus = (launcher.get("cpus_per_task") or 1) * (launcher.get("tasks_per_node") or 1)
    if cpus <= part.cpus:
        return None
    return (
        f"a job asks for {cpus} CPUs (hydra.launcher.cpus_per_task, which follows threads), but "
        f"the nodes of partition {part.name!r} have at most {part.cpus}: set threads={part.cpus} "
        f"(or hydra.launcher.cpus_per_task={part.cpus}) or less, {ELSEWHERE}"
    )


def memory_problem(launcher: Mapping[str, Any], part: Partition) -> str | None:
    """Memory per node: ``mem_gb`` (null: the cluster's default, never a problem)."""
    mem_gb = launcher.get("mem_gb")
    if not mem_gb or mem_gb * 1024 <= part.memory_mb:
        return None
    return (
        f"hydra.launcher.mem_gb={mem_gb}, but the nodes of partition {part.name!r} have at most "
        f"{part.memory_mb} MB: set hydra.launcher.mem_gb={part.memory_mb // 1024} or less (null: "
        f"the cluster's default), {ELSEWHERE}"
    )


def gpus_problem(launcher: Mapping[str, Any], part: Partition) -> str | None:
    """GPUs per node: ``gpus_per_node`` against the nodes' GRES."""
    gpus = launcher.get("gpus_per_node") or 0
    if gpus <= part.gpus:
        return None
    return (
        f"hydra.launcher.gpus_per_node={gpus}, but the nodes of partition {part.name!r} have at "
        f"most {part.gpus} GPUs: set hydra.launcher.partition to a GPU partition, or "
        f"hydra.launcher.gpus_per_node={part.gpus} (hydra/launcher=slurm runs without GPUs)"
    )


def time_problem(launcher: Mapping[str, Any], part: Partition) -> str | None:
    """``timeout_min`` against the partition's limit, and ``signal_delay_s`` against it."""
    minutes = launcher.get("timeout_min") or 0
    if minutes > part.max_minutes:
        return (
            f"hydra.launcher.timeout_min={minutes}, but partition {part.name!r} allows "
            f"{part.max_minutes:g} minutes: set hydra.launcher.timeout_min="
            f"{int(part.max_minutes)} or less, {ELSEWHERE}"
        )
    delay = launcher.get("signal_delay_s") or 0
    if delay < minutes * 60:
        return None
    return (
        f"hydra.launcher.signal_delay_s={delay}: SLURM would tell each job to stop (SIGUSR2, "
        f"that many seconds before its time limit, timeout_min={minutes}) as soon as it starts: "
        f"set hydra.launcher.signal_delay_s below {minutes * 60} or raise "
        f"hydra.launcher.timeout_min"
    )


def request_problem(launcher: Mapping[str, Any], partitions: dict[str, Partition]) -> str | None:
    """What a job of the launcher config (``hydra.launcher``) asks for that the partition's
    largest node cannot give, naming the override to set; None if it fits."""
    try:
        part = pick_partition(launcher.get("partition"), partitions)
    except ValueError as error:
        return str(error)
    for check in (cpus_problem, memory_problem, gpus_problem, time_problem):
        problem = check(launcher, part)
        if problem:
            return problem
    return None


class RequestCheck(Callback):
    """Hydra callback: stops a SLURM sweep before it submits anything when its jobs could never
    run (see the module docstring); prints the reason and exits 2, like bad input."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Called in the launching process before the sweeper and launcher start."""
        launcher = config.hydra.launcher
        if not str(launcher.get("_target_", "")).endswith(SLURM_LAUNCHER):
            return
        request = {key: launcher.get(key) for key in REQUEST_KEYS}
        try:
            problem = request_problem(request, read_partitions())
        except RuntimeError as error:
            problem = str(error)
        if problem:
            print(f"aligngym run: error: {problem}", file=sys.stderr)
            sys.exit(2)
