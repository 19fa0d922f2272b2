#!/usr/bin/env bash
# Creates benchmarks/.venv-learners: aligngym plus the RL libraries that
# benchmarks/learner_throughput.py compares against SB3's PPO (skrl, TorchRL, rl-games,
# PufferLib 3), kept out of the main environment.
#
#   bash benchmarks/setup_learners.sh            # then:
#   benchmarks/.venv-learners/bin/python benchmarks/learner_throughput.py
#
# torch is pinned (to the CPU build on a machine without CUDA) and so are numpy and gymnasium
# once aligngym has installed them, in every pip call, so that no library up- or downgrades
# them (an unpinned torch pulls a multi-GB CUDA build). A library that does not install is
# reported with pip's error and the others still install; the last lines list what is there.
#
# PufferLib 3.0.0 (the newest release of `pufferlib`) does not install as published:
#   * it pins numpy<2.0, gymnasium<=0.29.1 and pettingzoo<=1.24.1, which aligngym's
#     gymnasium>=1.0 (and numpy 2) rule out: pip's resolver refuses;
#   * its setup.py downloads raylib and box2d from GitHub while building (no network here but
#     the package registries), and its NO_OCEAN=1 switch, which skips them, crashes setup.py
#     (NameError: name 'c_extension_paths' is not defined);
#   * with nvcc on PATH it builds a CUDA extension, which fails against a CPU torch.
# So the script takes the sdist that pip unpacked, fixes that one line, and builds it with
# NO_OCEAN=1, nvcc hidden when torch has no CUDA, --no-deps and --no-build-isolation (its C++
# advantage kernel compiles against the installed torch), then adds the runtime imports of
# pufferl (rich, rich_argparse, pyro-ppl, gym, psutil) under the same pins. `pufferlib-core`
# (3.0.23, a Metta fork) pins torch==2.9.0 and ships a _C built for it: not usable with 2.13.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-benchmarks/.venv-learners}
PY=$VENV/bin/python
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
PUFFERLIB_VERSION=${PUFFERLIB_VERSION:-3.0.0}

[ -x "$PY" ] || python3.11 -m venv "$VENV" || python3 -m venv "$VENV"
CONSTRAINTS=$(mktemp)
trap 'rm -f "$CONSTRAINTS"' EXIT
echo "torch==$TORCH_VERSION" >"$CONSTRAINTS"
pip() { "$PY" -m pip --quiet "$@" 2> >(grep -v "is ignored: it is neither" >&2); }

set -e
pip install --upgrade pip
pip install -c "$CONSTRAINTS" "torch==$TORCH_VERSION"
pip install -c "$CONSTRAINTS" -e .
# from here on numpy and gymnasium stay what aligngym installed
"$PY" - >>"$CONSTRAINTS" <<'PY'
import gymnasium, numpy
print(f"numpy=={numpy.__version__}\ngymnasium=={gymnasium.__version__}")
PY
set +e

failed=()
for package in skrl torchrl rl-games; do
    echo "installing $package"
    pip install -c "$CONSTRAINTS" "$package" || failed+=("$package")
done

echo "installing pufferlib==$PUFFERLIB_VERSION"
if ! pip install -c "$CONSTRAINTS" "pufferlib==$PUFFERLIB_VERSION"; then
    echo "pufferlib==$PUFFERLIB_VERSION does not install as published (see above); building a" \
        "patched sdist without its Ocean environments"
    WORK=$(mktemp -d)
    # pip leaves the sdist it unpacked in TMPDIR with --no-clean, even when metadata fails
    TMPDIR=$WORK NO_OCEAN=1 "$PY" -m pip --quiet install --no-clean --no-deps \
        --no-build-isolation "pufferlib==$PUFFERLIB_VERSION" >/dev/null 2>&1
    SOURCE=$(ls -d "$WORK"/pip-install-*/pufferlib_* 2>/dev/null | head -n 1)
    if [ -n "$SOURCE" ] && [ -f "$SOURCE/setup.py" ]; then
        grep -q '^c_extension_paths = \[\]$' "$SOURCE/setup.py" ||
            sed -i 's/^c_extensions = \[\]$/c_extensions = []\nc_extension_paths = []/' \
                "$SOURCE/setup.py"
        BUILD_PATH=$PATH
        if [ "$("$PY" -c 'import torch; print(torch.version.cuda is None)')" = True ]; then
            # a CPU torch: hide nvcc so that setup.py builds the CPU extension
            BUILD_PATH=$(echo "$PATH" | tr ':' '\n' | while read -r dir; do
                [ -x "$dir/nvcc" ] || echo "$dir"
            done | paste -sd:)
        fi
        if PATH=$BUILD_PATH NO_OCEAN=1 MAX_JOBS=2 "$PY" -m pip --quiet install -c "$CONSTRAINTS" \
            --no-deps --no-build-isolation "$SOURCE"; then
            pip install -c "$CONSTRAINTS" rich rich_argparse pyro-ppl gym psutil ||
                failed+=("pufferlib runtime dependencies")
        else
            failed+=("pufferlib (patched build)")
        fi
    else
        failed+=("pufferlib (no sdist)")
    fi
    rm -rf "$WORK"
fi

"$PY" - <<'PY'
import importlib.metadata as metadata

for name in ("aligngym", "torch", "numpy", "gymnasium", "stable-baselines3", "skrl", "torchrl",
             "tensordict", "rl-games", "pufferlib"):
    try:
        print(f"  {name:<18} {metadata.version(name)}")
    except metadata.PackageNotFoundError:
        print(f"  {name:<18} not installed")
PY
if [ ${#failed[@]} -gt 0 ]; then
    echo "$VENV ready, without: ${failed[*]}"
else
    echo "$VENV ready"
fi
