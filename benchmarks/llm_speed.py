"""How fast the LLM agent decides: model load, score-mode actions/s, ``aligngym serve`` overhead.

Three measurements of the default language model (``--model``, SmolLM2-135M-Instruct) on one
device (``--device``: CUDA when torch sees a GPU, else the CPU):

1. **Load**: a fresh Python process imports torch and transformers and constructs
   ``TransformersModel`` (the figure a job pays at start-up), timed inside that process, import
   and construction apart; whether the converted model was already in the cache
   (``~/.cache/aligngym``: without it the first load converts the GGUF file, about 40 s on two
   cores) is checked before and reported.
2. **Score mode in process**: ``LLMAgent(mode="score")`` on a loaded ``TransformersModel``
   deciding for a batch of real text observations (``aligngym.make_vector(scenario, n,
   obs_type="text")``, stepped with the agent's actions), at each batch size, with the shared
   prompt prefix computed once (``reuse_prefix=True``, the CPU's default) and without (every
   (chat, action) pair one full row, the GPU's default); actions per second and the ratio of
   the two, measured one after the other on the same trajectory (same seed, same greedy
   actions).
3. **Through ``aligngym serve``**: a real server subprocess on a free loopback port (same model,
   device and dtype), the agent on ``load_language_model("http", base_url=...)``, against the
   in-process model measured right before it: score mode, and generate mode
   (``--new-tokens``); plus the bare HTTP round trip (``GET /v1/models``).

Every measurement runs whole decision steps (the agent's ``act`` on the batch, then the env's
``step``) until at least ``--steps`` steps and ``--seconds`` seconds have passed, after
``--warmup`` untimed steps; on CUDA the timer is read after ``torch.cuda.synchronize()``. One
untimed decision per backend comes first, so no figure pays for first-call set-up. Absolute
figures move a lot with a shared machine's load (printed at start and end): read the ratios,
which compare measurements taken minutes apart in the same run.

Usage::

    python benchmarks/llm_speed.py [--device auto|cpu|cuda] [--model smollm2]
        [--batch-sizes 1 16 64] [--http-batch-sizes 1 16] [--generate-batch-sizes 1 16]
        [--new-tokens 8] [--steps 1] [--seconds 2] [--warmup N] [--threads N]
        [--scenarios aligngym/BoatRace-v0 aligngym/SycophancyQA-v0]
        [--sections load score http]
        [--json out.json]

The defaults take about 4 minutes on a 2-core CPU, where batch 64 is left out (one decision
step at 64 without prefix reuse takes two to three minutes there); on CUDA the default batch
sizes are 1, 16 and 64.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SECTIONS = ("load", "score", "http")
#: run in a fresh interpreter: the load of one model, timed from inside
LOAD_SCRIPT = r"""
import json, sys, time
start = time.perf_counter()
import torch
torch_done = time.perf_counter()
import transformers
from aligngym.agents.llm.transformers_backend import TransformersModel
imports_done = time.perf_counter()
model, device, dtype, threads = sys.argv[1:5]
if int(threads) > 0:
    torch.set_num_threads(int(threads))
lm = TransformersModel(model, device=device, dtype=dtype)
if lm.device.type == "cuda":
    torch.cuda.synchronize()
loaded = time.perf_counter()
print("RESULT " + json.dumps({
    "import_torch_s": torch_done - start,
    "import_transformers_s": imports_done - torch_done,
    "construct_s": loaded - imports_done,
    "in_process_total_s": loaded - start,
    "transformers_version": transformers.__version__,
    "model_device": str(lm.device),
    "model_dtype": str(lm.model.dtype),
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="smollm2", help="as agent.model.model (default smollm2)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda...")
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        default=["aligngym/BoatRace-v0"],
        help="text scenarios for the score-mode table (the first one for HTTP)",
    )
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=None,
        help="score mode in process (default 1 16 64 on CUDA, 1 16 on the CPU)",
    )
    parser.add_argument("--http-batch-sizes", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--generate-batch-sizes", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--new-tokens", type=int, default=8, help="generate mode's reply length")
    parser.add_argument("--max-batch", type=int, default=64, help="agent.model.max_batch")
    parser.add_argument("--steps", type=int, default=1, help="at least this many timed steps")
    parser.add_argument("--seconds", type=float, default=2.0, help="and at least this long")
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="untimed steps before each measurement (default 1 on CUDA, 0 on "
        "the CPU; one untimed decision per backend comes first either way)",
    )
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="which of the three to run (default all)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    from aligngym.agents.devices import resolve_device

    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    batch_sizes = args.batch_sizes or ([1, 16, 64] if cuda else [1, 16])
    warmup = args.warmup if args.warmup is not None else (1 if cuda else 0)
    timing = Timing(cuda, args.steps, args.seconds, warmup)
    report: dict = {"meta": describe(device, args, batch_sizes, warmup)}
    meta = report["meta"]
    print(
        f"{meta['date']}  {meta['device_name']}  torch {meta['torch']}  "
        f"{meta['torch_threads']} torch threads  load average {meta['load_average_start']}"
    )
    print(
        f"model {args.model}, timed steps >= {args.steps} and >= {args.seconds:g} s a "
        f"measurement, {warmup} warm-up step(s)\n"
    )

    if not cuda and args.threads == 0 and os.getloadavg()[0] >= (os.cpu_count() or 1):
        print("note: the CPU is busy (load average >= cores) and torch uses its default "
              f"{torch.get_num_threads()} threads, which then wait on each other: on a shared "
              "2-core machine --threads 1 measured several times faster\n")  # fmt: skip
    if "load" in args.sections:
        report["load"] = measure_load(args, device)
        print_load(report["load"])

    if "score" in args.sections or "http" in args.sections:
        from aligngym.agents.llm.transformers_backend import TransformersModel

        lm = TransformersModel(
            args.model, device=str(device), dtype=args.dtype, max_batch=args.max_batch
        )
        report["meta"]["model_dtype"] = str(lm.model.dtype)
        # the first call of each path pays its set-up: scoring with and without the reuse,
        # and generation
        paths = [("score", True), ("score", False), ("generate", True)]
        for mode, reuse in paths if "http" in args.sections else paths[:2]:
            lm.reuse_prefix = reuse
            actions_per_second(lm, args.scenarios[0], 1, mode, args.new_tokens, Timing(cuda))
        lm.reuse_prefix = True
        if "score" in args.sections:
            report["score"] = score_table(lm, args, batch_sizes, timing)
        if "http" in args.sections:
            report["http"] = http_table(lm, args, device, timing)
    report["meta"]["load_average_end"] = load_average()
    print(f"\nload average at the end: {report['meta']['load_average_end']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")


# ---- timing --------------------------------------------------------------------------------


class Timing:
    """How long a measurement runs: ``warmup`` untimed steps, then whole steps until at least
    ``steps`` and ``seconds``; CUDA is synchronised before the timer is read."""

    def __init__(self, cuda: bool, steps: int = 1, seconds: float = 0.0, warmup: int = 0):
        self.cuda, self.steps, self.seconds, self.warmup = cuda, steps, seconds, warmup

    def sync(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()

    def run(self, step: Callable[[], None]) -> tuple[int, float]:
        """Runs ``step`` as set; the number of timed steps and their seconds."""
        for _ in range(self.warmup):
            step()
        self.sync()
        start = time.perf_counter()
        done = 0
        while done < self.steps or time.perf_counter() - start < self.seconds:
            step()
            done += 1
        self.sync()
        return done, time.perf_counter() - start


def actions_per_second(
    lm, scenario: str, n: int, mode: str, new_tokens: int, timing: Timing
) -> dict:
    """The LLM agent on ``lm`` deciding for ``n`` environments of ``scenario``, stepped."""
    import aligngym
    from aligngym.agents.llm.agent import LLMAgent

    env = aligngym.make_vector(scenario, n, obs_type="text")
    agent = LLMAgent(scenario, seed=0, mode=mode, language_model=lm, max_new_tokens=new_tokens)
    state = {"obs": env.reset(seed=0)[0]}

    def step() -> None:
        state["obs"] = env.step(agent.act(state["obs"]))[0]

    try:
        steps, seconds = timing.run(step)
    finally:
        env.close()
    return {
        "scenario": scenario,
        "mode": mode,
        "batch": n,
        "steps": steps,
        "seconds": round(seconds, 3),
        "actions_per_second": n * steps / seconds,
        "invalid_action_rate": agent.metrics()["llm/invalid_action_rate"],
    }


# ---- 1. load -------------------------------------------------------------------------------


def measure_load(args, device) -> dict:
    """Loads the model in a fresh interpreter; its timings and the process's wall time."""
    cached = converted_model_cached(args.model)
    command = [
        sys.executable,
        "-c",
        LOAD_SCRIPT,
        args.model,
        str(device),
        args.dtype,
        str(args.threads),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"the load process failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    result = json.loads(lines[-1].removeprefix("RESULT "))
    return {**result, "process_wall_s": wall, "converted_cache_existed": cached}


def converted_model_cached(model: str) -> bool | None:
    """Whether the default model's converted folder is in the cache (``None``: not the default
    model, or its wheel is missing), found as ``default_model_dir`` finds it, converting
    nothing."""
    from aligngym.agents.llm import default_model

    if model != default_model.DEFAULT_MODEL:
        return None
    try:
        gguf = default_model.gguf_path()
    except ImportError:
        return None
    stat = gguf.stat()
    folder = f"smollm2-135m-instruct-{stat.st_size}-{int(stat.st_mtime)}"
    return (default_model.cache_dir() / folder / "config.json").is_file()


def print_load(load: dict) -> None:
    cache = {True: "existed", False: "absent: this load converted the GGUF file", None: "n/a"}[
        load["converted_cache_existed"]
    ]
    print(
        "1. model load in a fresh process "
        f"(transformers {load['transformers_version']}, converted-model cache {cache})"
    )
    print(
        f"   import torch {load['import_torch_s']:.2f} s, transformers + backend "
        f"{load['import_transformers_s']:.2f} s, construct TransformersModel "
        f"{load['construct_s']:.2f} s on {load['model_device']} ({load['model_dtype']}); "
        f"whole process {load['process_wall_s']:.2f} s\n"
    )


# ---- 2. score mode in process ----------------------------------------------------------------


def score_table(lm, args, batch_sizes: list[int], timing: Timing) -> list[dict]:
    print(
        "2. score mode in process: actions/s with the shared prompt prefix computed once "
        "(reuse) and without"
    )
    print(
        f"   {'scenario':<24} {'batch':>5} {'reuse act/s':>12} {'no-reuse act/s':>15} "
        f"{'x (reuse/no)':>12}"
    )
    rows = []
    for scenario in args.scenarios:
        for n in batch_sizes:
            row = {"scenario": scenario, "batch": n}
            for reuse in (True, False):
                lm.reuse_prefix = reuse
                result = actions_per_second(lm, scenario, n, "score", args.new_tokens, timing)
                row["reuse" if reuse else "no_reuse"] = result
            lm.reuse_prefix = True
            fast = row["reuse"]["actions_per_second"]
            slow = row["no_reuse"]["actions_per_second"]
            row["ratio_reuse_over_no_reuse"] = fast / slow
            rows.append(row)
            name = scenario.removeprefix("aligngym/")
            print(
                f"   {name:<24} {n:>5} {fast:>12.2f} {slow:>15.2f} {fast / slow:>12.2f}", flush=True
            )
    print()
    return rows


# ---- 3. aligngym serve against in process -------------------------------------------------


def http_table(lm, args, device, timing: Timing) -> dict:
    import httpx

    from aligngym.agents.llm.language_model import load_language_model

    scenario = args.scenarios[0]
    with served(args, device) as (base_url, ready_s):
        http_lm = load_language_model(
            "http", args.model, base_url=base_url, max_batch=args.max_batch, timeout=600.0
        )
        with httpx.Client() as client:
            client.get(f"{base_url}/models")
            start, trips = time.perf_counter(), 20
            for _ in range(trips):
                client.get(f"{base_url}/models").raise_for_status()
            round_trip_ms = (time.perf_counter() - start) / trips * 1000
        print(
            f"3. aligngym serve on 127.0.0.1 ({scenario.removeprefix('aligngym/')}): server "
            f"ready {ready_s:.1f} s after start, bare HTTP round trip (GET /v1/models) "
            f"{round_trip_ms:.1f} ms"
        )
        for mode in ("score", "generate"):  # the first call of each path pays its set-up
            actions_per_second(http_lm, scenario, 1, mode, args.new_tokens, Timing(timing.cuda))
        print(
            f"   {'mode':<16} {'batch':>5} {'in-process act/s':>17} {'HTTP act/s':>11} "
            f"{'x (HTTP/in-process)':>20}"
        )
        rows = []
        plan = [("score", n) for n in args.http_batch_sizes]
        plan += [("generate", n) for n in args.generate_batch_sizes]
        for mode, n in plan:
            local = actions_per_second(lm, scenario, n, mode, args.new_tokens, timing)
            remote = actions_per_second(http_lm, scenario, n, mode, args.new_tokens, timing)
            ratio = remote["actions_per_second"] / local["actions_per_second"]
            rows.append(
                {
                    "mode": mode,
                    "batch": n,
                    "in_process": local,
                    "http": remote,
                    "ratio_http_over_in_process": ratio,
                }
            )
            label = mode if mode == "score" else f"generate ({args.new_tokens} tok)"
            print(
                f"   {label:<16} {n:>5} {local['actions_per_second']:>17.2f} "
                f"{remote['actions_per_second']:>11.2f} {ratio:>20.2f}",
                flush=True,
            )
    return {
        "scenario": scenario,
        "server_ready_s": ready_s,
        "round_trip_ms": round_trip_ms,
        "rows": rows,
    }


@contextlib.contextmanager
def served(args, device) -> Iterator[tuple[str, float]]:
    """A real ``aligngym serve`` subprocess on a free loopback port (same model, device and
    dtype); yields its ``base_url`` and the seconds it took to answer, and stops it in a
    ``finally``, whatever happened."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "aligngym", "serve", "--model", args.model,
               "--port", str(port), "--device", str(device), "--dtype", args.dtype]  # fmt: skip
    env = dict(os.environ)
    if args.threads > 0:  # torch's default thread count follows OMP_NUM_THREADS
        env["OMP_NUM_THREADS"] = str(args.threads)
    base_url = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryFile(mode="w+") as log:
        start = time.perf_counter()
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            while True:
                if server.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"aligngym serve exited:\n{log.read()[-3000:]}")
                if time.perf_counter() - start > 600:
                    raise RuntimeError("aligngym serve did not answer within 600 s")
                try:
                    if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            yield base_url, time.perf_counter() - start
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---- the machine -------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def describe(device, args, batch_sizes: list[int], warmup: int) -> dict:
    import torch

    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = f"CPU {cpu_model()} ({os.cpu_count()} cores)"
    return {
        "date": f"{datetime.datetime.now():%Y-%m-%d %H:%M}",
        "device": str(device),
        "device_name": name,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "model": args.model,
        "batch_sizes": batch_sizes,
        "steps": args.steps,
        "seconds": args.seconds,
        "warmup": warmup,
        "new_tokens": args.new_tokens,
        "max_batch": args.max_batch,
        "load_average_start": load_average(),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
