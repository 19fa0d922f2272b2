"""Fixtures shared by the tests: Hydra's configs composed as ``aligngym run`` does, one torch
thread for the tests that train small networks, and ``aligngym run`` as a child process."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hydra import initialize_config_module
from hydra.core.global_hydra import GlobalHydra

CONF = Path(__file__).resolve().parent.parent / "conf"


def pytest_configure(config):
    """Each pytest-xdist worker's torch computes on one thread: the suite's two workers share
    the two cores, and two threads each would oversubscribe them (a language model's sampling
    ran ten times slower so)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


@pytest.fixture
def hydra_conf():
    """Hydra initialised on ``aligngym.conf``, as ``aligngym run`` is; ``compose`` works."""
    import aligngym.app  # noqa: F401 (as in `aligngym run`: stores the configs env/ extends)

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module="aligngym.conf", version_base="1.3"):
        yield
    GlobalHydra.instance().clear()


def config_options(group: str) -> list[str]:
    """The options of a config group shipped under conf/, e.g. ``experiment``."""
    root = CONF / group
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.yaml"))


def scripted_episodes(
    env_id: str, policy_name: str, episodes: int, watch=None, seed: int = 0, **settings
) -> dict:
    """Plays one episode in each of ``episodes`` environments of a vector env under a scripted
    policy, until every one has ended (NEXT_STEP autoreset: the step that ends an episode
    reports its values; later steps are not counted).

    Returns per-episode sums of the reward, the performance and every event, the lengths
    (``length``), whether each terminated (``terminated``), and the actions chosen
    (``actions``, ``(episodes, steps)``, -1 after an episode's end). ``watch(state, info,
    active)`` is called with the true state after the reset (``info`` None) and after every
    step, ``active`` marking the episodes that had not ended before it.
    """
    import numpy as np

    import aligngym
    from aligngym.agents.scripted import scripted_policy

    events = aligngym.scenario(env_id).card.events
    env = aligngym.make_vector(env_id, episodes, **settings)
    env.reset(seed=seed)
    state = aligngym.true_state(env)
    policy = scripted_policy(env_id, policy_name).policy
    active = np.ones(episodes, dtype=bool)
    sums = {name: np.zeros(episodes) for name in ("reward", "performance", *events)}
    sums["length"] = np.zeros(episodes, dtype=np.int64)
    sums["terminated"] = np.zeros(episodes, dtype=bool)
    actions = []
    if watch is not None:
        watch(state, None, active)
    while active.any():
        chosen = policy(state)
        actions.append(np.where(active, chosen, -1))
        _, reward, terminated, truncated, info = env.step(chosen)
        sums["reward"] += np.where(active, reward, 0.0)
        sums["performance"] += np.where(active, info["performance"], 0.0)
        for name in events:
            sums[name] += np.where(active, info["events"][name], 0.0)
        sums["length"] += active
        sums["terminated"] |= active & terminated
        if watch is not None:
            watch(state, info, active)
        active = active & ~(terminated | truncated)
    env.close()
    sums["actions"] = np.stack(actions, axis=1)
    return sums


@pytest.fixture
def one_torch_thread():
    """Small MLPs train fastest on one thread, above all on a machine shared by test workers."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def start_run(folder: Path, *overrides: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Starts ``aligngym run`` into ``folder`` as a child process (W&B offline), with ``env``
    added to its environment variables."""
    command = [sys.executable, "-m", "aligngym", "run", f"hydra.run.dir={folder}", *overrides]
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", **(env or {})}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def run_in_process(root: Path, *overrides: str) -> tuple[Path, dict]:
    """Runs ``aligngym run`` in this process into a fresh ``root`` (``runs_root``); returns
    the run folder and its summary. Picklable: parallel runs submit it to a process pool."""
    from aligngym import cli

    assert cli.main(["run", f"runs_root={root}", *overrides]) == 0
    (folder,) = [p.parent for p in root.glob("*/*/.hydra")]
    return folder, json.loads((folder / "summary.json").read_text())


def wait_for_training(folder: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    """Waits until the run has logged an evaluation row: it is training."""
    metrics, deadline = folder / "metrics.jsonl", time.monotonic() + timeout
    while not (metrics.exists() and metrics.read_text().strip()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run did not start training"
        time.sleep(0.2)


@pytest.fixture(scope="session")
def smollm2():
    """The default language model, loaded once for the whole session (on the CPU)."""
    from aligngym.agents.llm.transformers_backend import TransformersModel

    return TransformersModel(device="cpu")


def free_port() -> int:
    """A TCP port nothing listens on now, on the loopback address."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def served_model():
    """A real ``aligngym serve`` process on the loopback address, serving the default model;
    yields its ``base_url`` and stops it after the session."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "aligngym", "serve", "--port", str(port), "--device", "cpu"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    try:
        while True:
            assert server.poll() is None, server.communicate()[0].decode()[-2000:]
            assert time.monotonic() < deadline, "aligngym serve did not start"
            try:
                if httpx.get(f"{base_url}/models", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


class PlainChatServer:
    """A real OpenAI-style chat server on the loopback address that, like llama.cpp's server,
    Ollama or OpenAI's API, returns no prompt log-probabilities; it always replies ``reply``."""

    def __init__(self, reply: str):
        reply_text = reply

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server interface)
                self._send({"object": "list", "data": [{"id": "plain", "object": "model"}]})

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                message = {"role": "assistant", "content": reply_text}
                self._send({
                    "id": "1", "object": "chat.completion", "created": 0, "model": "plain",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                })  # fmt: skip

            def _send(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def plain_chat_server():
    """Starts :class:`PlainChatServer` s replying a given text; returns their ``base_url``."""
    servers: list[PlainChatServer] = []

    def start(reply: str) -> str:
        servers.append(PlainChatServer(reply))
        return servers[-1].base_url

    yield start
    for server in servers:
        server.close()


def wandb_records(run_dir: Path) -> list:
    """Parses the offline ``.wandb`` file (LevelDB log blocks of protobuf records)."""
    from wandb.proto import wandb_internal_pb2

    (path,) = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    data, block, offset = path.read_bytes(), 32768, 7  # 7-byte W&B file header
    chunks, pending = [], b""
    while offset + 7 <= len(data):
        if block - offset % block < 7:
            offset += block - offset % block
            continue
        _, length, kind = struct.unpack("<IHB", data[offset : offset + 7])
        chunk = data[offset + 7 : offset + 7 + length]
        offset += 7 + length
        if kind == 1:
            chunks.append(chunk)
        elif kind in (2, 3):
            pending = (pending if kind == 3 else b"") + chunk
        elif kind == 4:
            chunks.append(pending + chunk)
    records = []
    for chunk in chunks:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(chunk)
        records.append(record)
    return records
