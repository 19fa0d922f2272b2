"""SLURM sweeps (``hydra/launcher=slurm``) on a real single-node cluster, and the check of a
sweep's request against what the cluster offers.

The cluster tests start the cluster with scripts/slurm-local.sh (as root: it installs
slurm-wlm and munge with apt-get where missing) and are skipped, with the reason, where it
cannot start. Their jobs are tiny, except the time-limit test, which waits for SLURM's time
limit of one minute. The request check's own tests need no cluster, nor do those of how a job
ends on SLURM's warning of its time limit (SIGUSR2).
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose

from aligngym import cli
from aligngym.agents.base import EpisodeLog
from aligngym.experiment import Interrupted, SignalCheck, interruptible
from aligngym.slurm import Partition, parse_minutes, parse_sinfo, request_problem

# one local cluster for every test here: one pytest-xdist worker runs them all
pytestmark = pytest.mark.xdist_group("slurm")

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "slurm-local.sh"
# every job: no W&B, no GIF, two evaluation episodes after training
QUIET = ["logger=none", "video.enabled=false", "eval.every=0", "eval.episodes=2"]
TINY = [*QUIET, "agent=scripted_intended", "train.timesteps=200"]


def slurm_local(command: str) -> subprocess.CompletedProcess:
    """Runs ``scripts/slurm-local.sh <command>``."""
    return subprocess.run(
        ["bash", str(SCRIPT), command], capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """A running local cluster, started with the script (and stopped after the tests unless it
    ran before); skips the tests where it cannot start."""
    if os.geteuid() != 0:
        pytest.skip("the local SLURM cluster needs root (scripts/slurm-local.sh start)")
    was_running = slurm_local("status").returncode == 0
    started = slurm_local("start")
    if started.returncode != 0:
        if not was_running:
            slurm_local("stop")
        reason = (started.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.skip(f"the local SLURM cluster did not start: {reason}")
    yield
    if not was_running:
        slurm_local("stop")


def slurm_sweep(cwd: Path, *overrides: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``aligngym run -m hydra/launcher=slurm`` in ``cwd``, its runs under ``cwd/runs``."""
    command = [sys.executable, "-m", "aligngym", "run", "-m", "runs_root=runs"]
    command += ["hydra/launcher=slurm", *overrides]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=timeout)


def sweep_folders(cwd: Path) -> list[Path]:
    """The sweep folders under ``cwd/runs``, oldest first."""
    return sorted(path for path in (cwd / "runs").glob("sweeps/*/*") if path.is_dir())


def summaries(folder: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*/summary.json"))]


def test_a_slurm_sweep_writes_every_job_into_one_folder_that_report_reads(cluster, tmp_path):
    result = slurm_sweep(tmp_path, "seed=0,1", *TINY)
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = sweep_folders(tmp_path)
    runs = summaries(folder)
    assert sorted(run["seed"] for run in runs) == [0, 1]
    assert all(run["status"] == "completed" for run in runs)
    # each job ran as a SLURM array task, with submitit's logs in the sweep folder
    assert len(list(folder.glob(".submitit/*_*/*_0_log.out"))) == 2
    assert cli.main(["report", str(folder)]) == 0
    assert "2 runs: 2 completed, 0 failed." in (folder / "report.md").read_text()
    with open(folder / "results.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    assert sorted((row["seed"], row["status"]) for row in rows) == [
        ("0", "completed"),
        ("1", "completed"),
    ]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("threads=1000", "a job asks for 1000 CPUs"),
        ("hydra.launcher.mem_gb=100000", "set hydra.launcher.mem_gb="),
        ("hydra.launcher.partition=nowhere", "no such partition; the cluster has: local"),
        ("hydra.launcher.timeout_min=1", "set hydra.launcher.signal_delay_s below 60"),
    ],
)
def test_a_request_that_no_node_can_meet_stops_before_submitting(
    cluster, tmp_path, override, message
):
    result = slurm_sweep(tmp_path, "seed=0,1", *TINY, override, timeout=120)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "aligngym run: error:" in result.stderr and message in result.stderr
    assert not list(tmp_path.rglob(".submitit"))


def test_a_job_at_its_time_limit_is_interrupted_and_resumes_in_a_new_submission(cluster, tmp_path):
    # a one-minute limit: submitit's sbatch asks for SIGUSR2 5 s before it, which SLURM (checking
    # every 30 s) sends 25-55 s into the job, training by then; SIGTERM would follow at the limit
    qlearning = [*QUIET, "agent=q_learning"]
    limit = ["hydra.launcher.timeout_min=1", "hydra.launcher.signal_delay_s=5"]
    first = slurm_sweep(tmp_path, *limit, *qlearning, "train.timesteps=1000000000")
    # the job returned its interrupted summary to the launcher: no job completed, exit 1
    assert first.returncode == 1, first.stderr[-3000:]
    assert "1 of 1 jobs failed" in first.stderr
    (folder,) = sweep_folders(tmp_path)
    (summary,) = summaries(folder)
    assert summary["status"] == "interrupted", summary
    assert summary["error"] == "interrupted by SIGUSR2"
    checkpoint = Path(summary["checkpoint"])
    assert checkpoint.exists() and checkpoint.suffix == ".npz"
    assert summary["timesteps"] > 0
    # a second submission goes on from the checkpoint (its path, in a sweep job's folder, holds
    # = and , and comes quoted) up to train.timesteps in all
    budget = summary["timesteps"] + 20_000
    second = slurm_sweep(tmp_path, *qlearning, f"train.timesteps={budget}", summary["resume"])
    assert second.returncode == 0, second.stderr[-3000:]
    (resumed,) = summaries(sweep_folders(tmp_path)[-1])
    assert resumed["status"] == "completed"
    assert resumed["timesteps"] == budget


def wait_for_training(metrics: str, root: Path, process: subprocess.Popen) -> None:
    """Waits until a job's ``metrics.jsonl`` (the glob pattern ``metrics`` under ``root``) has
    an evaluation row: the job is training."""
    deadline = time.monotonic() + 120
    while not any(path.read_text().strip() for path in root.glob(metrics)):
        assert process.poll() is None, "the sweep ended early"
        assert time.monotonic() < deadline, "the job did not start training"
        time.sleep(0.2)


def test_a_sweep_job_warned_by_sigusr2_ends_interrupted_and_the_sweep_goes_on(tmp_path):
    """SLURM's warning of the time limit, without a cluster: under the basic launcher each job
    of the sweep gets SIGUSR2 once it trains, saves its checkpoint and returns (a SLURM job
    returns its result to submitit the same way), and the next job starts."""
    command = [sys.executable, "-m", "aligngym", "run", "-m", "runs_root=runs", "seed=0,1"]
    command += ["logger=none", "video.enabled=false", "eval.episodes=2", "eval.every=10000"]
    command += ["agent=q_learning", "train.timesteps=1000000000"]
    with open(tmp_path / "stderr.txt", "w") as stderr:
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            for job in ("0_*", "1_*"):
                wait_for_training(f"runs/sweeps/*/*/{job}/metrics.jsonl", tmp_path, process)
                process.send_signal(signal.SIGUSR2)
            assert process.wait(timeout=120) == 1
        finally:
            process.kill()
            process.wait()
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()
    (folder,) = sweep_folders(tmp_path)
    runs = summaries(folder)
    assert [(run["seed"], run["status"], run["error"]) for run in runs] == [
        (seed, "interrupted", "interrupted by SIGUSR2") for seed in (0, 1)
    ]
    assert all(Path(run["checkpoint"]).exists() for run in runs)


def test_a_stop_signal_that_c_code_swallowed_is_raised_again_at_the_next_step():
    # numpy's C code clears an exception raised in the Python it calls back (its ctypes check,
    # as it builds a dtype), and with it the Interrupted of a signal handler run there
    log, received = EpisodeLog(), []
    check = SignalCheck(log, received)
    check.on_step(16, [])
    with interruptible(received), contextlib.suppress(Interrupted):
        os.kill(os.getpid(), signal.SIGUSR2)
    assert received == [signal.SIGUSR2]
    with pytest.raises(Interrupted, match="SIGUSR2"):
        check.on_step(32, [])
    assert log.timesteps == [16, 32]


def test_the_request_check_reads_sinfo():
    output = "\n".join(
        [
            "cpu*|2|3900|(null)|infinite",
            "cpu*|16|64000|(null)|infinite",
            "gpu|8|32000|gpu:a100:4(S:0-1)|1-00:00:00",
        ]
    )
    partitions = parse_sinfo(output)
    assert partitions["cpu"] == Partition("cpu", True, cpus=16, memory_mb=64000)
    assert partitions["gpu"] == Partition("gpu", False, 8, 32000, gpus=4, max_minutes=1440)
    assert parse_minutes("4:00:00") == 240 and parse_minutes("30:00") == 30
    assert parse_minutes("45") == 45 and parse_minutes("infinite") == math.inf


def test_the_launcher_defaults_fit_a_small_node_and_cpus_follow_threads(hydra_conf):
    node = {"local": Partition("local", True, cpus=2, memory_mb=3900)}
    gpu_node = {"gpu": Partition("gpu", True, cpus=2, memory_mb=15000, gpus=1)}
    for launcher, partitions in (("slurm", node), ("slurm_gpu", gpu_node)):
        cfg = compose("config", [f"hydra/launcher={launcher}"], return_hydra_config=True)
        assert cfg.hydra.launcher.cpus_per_task == cfg.threads == 1
        assert request_problem(cfg.hydra.launcher, partitions) is None, launcher
    cfg = compose("config", ["hydra/launcher=slurm", "threads=4"], return_hydra_config=True)
    assert cfg.hydra.launcher.cpus_per_task == 4
    problem = request_problem(cfg.hydra.launcher, node)
    assert problem is not None and "set threads=2" in problem


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"partition": None}, None),
        ({"partition": "big"}, "no such partition; the cluster has: gpu, local"),
        ({"mem_gb": 4}, "set hydra.launcher.mem_gb=3 or less"),
        ({"gpus_per_node": 1}, "set hydra.launcher.partition to a GPU partition"),
        ({"partition": "gpu", "gpus_per_node": 1}, None),
        ({"partition": "gpu", "timeout_min": 240}, "set hydra.launcher.timeout_min=120"),
        ({"timeout_min": 1, "signal_delay_s": 60}, "signal_delay_s below 60"),
    ],
)
def test_the_request_check_names_the_override_to_set(request_, message):
    partitions = {
        "local": Partition("local", True, cpus=2, memory_mb=3900),
        "gpu": Partition("gpu", False, cpus=8, memory_mb=32000, gpus=1, max_minutes=120),
    }
    launcher = {"cpus_per_task": 1, "mem_gb": 2, "gpus_per_node": 0, "timeout_min": 60}
    problem = request_problem({**launcher, **request_}, partitions)
    assert problem is None if message is None else message in problem, problem


def test_a_cluster_without_a_default_partition_needs_one_named():
    partitions = {"a": Partition("a", False, cpus=2, memory_mb=3900)}
    problem = request_problem({"partition": None}, partitions)
    assert problem is not None and "set hydra.launcher.partition to one of: a" in problem
