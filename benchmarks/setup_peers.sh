#!/usr/bin/env bash
# Creates benchmarks/.venv: aligngym plus the peer gridworld suites the throughput benchmark
# compares against (minigrid, safety-gridworlds-gymnasium), kept out of the main environment.
#
#   bash benchmarks/setup_peers.sh            # then:
#   benchmarks/.venv/bin/python benchmarks/env_throughput.py
#
# The venv sees the system site-packages, so an installed torch is reused; torch is pinned so
# that pip never pulls an unpinned (CUDA-sized) build.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv --system-site-packages benchmarks/.venv
benchmarks/.venv/bin/python -m pip install --quiet --upgrade pip
benchmarks/.venv/bin/python -m pip install --quiet "torch==2.13.0"
benchmarks/.venv/bin/python -m pip install --quiet -e ".[bench]"
benchmarks/.venv/bin/python - <<'PY'
import minigrid, safety_gridworlds_gymnasium, aligngym  # noqa: F401
print("benchmarks/.venv ready: aligngym", aligngym.__version__, "minigrid", minigrid.__version__)
PY
