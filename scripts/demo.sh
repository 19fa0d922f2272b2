#!/usr/bin/env bash
# Sets everything up, then runs the main job: a short PPO run on the boat race.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/aligngym run "$@"
