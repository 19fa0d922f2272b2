"""The built wheel: every subpackage of the mapped folders, the configs, and nothing else.

The wheels are built from copies of the source tree in a temporary folder, so the build
leaves no ``build/`` or ``*.egg-info`` in the repository (and no stale ``build/lib`` there can
leak into the wheel). ``--no-build-isolation --no-index`` keeps the build offline: it uses the
setuptools of the running environment.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# --no-build-isolation builds with this environment's setuptools (70.1 and later build wheels
# without the separate `wheel` package); a venv without it cannot run these tests offline.
setuptools = pytest.importorskip(
    "setuptools", reason="building the wheel offline needs setuptools in this environment"
)
if tuple(int(p) for p in setuptools.__version__.split(".")[:2]) < (70, 1):
    pytest.importorskip("wheel", reason="setuptools < 70.1 needs `wheel` to build wheels")

ROOT = Path(__file__).resolve().parents[1]

# The import name of each top-level folder (the layout setup.py maps; kept here on purpose as
# the independent statement of what the wheel must hold).
MAPPED = {
    "aligngym": "aligngym",
    "envs": "aligngym/envs",
    "agents": "aligngym/agents",
    "oversight": "aligngym/oversight",
    "conf": "aligngym/conf",
}
NOT_SHIPPED = ("tests", "runs", "examples", "benchmarks", "scripts")
# never copied: environments (.venv*), VCS data, caches, build outputs (a stale build/lib would leak
# into the wheel) and run outputs (large)
SKIP_ANYWHERE = {".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache"}
SKIP_AT_TOP = {"build", "dist", "wandb", "outputs", "multirun", ".whl"}
ARTEFACTS = ("build", "dist", "*.egg-info")
NEW_FAMILY = "zz_family"


def _ignore(folder: str, names: list[str]) -> set[str]:
    skipped = {
        n for n in names
        if n in SKIP_ANYWHERE or n.startswith(".venv") or n.endswith((".egg-info", ".pyc"))
    }  # fmt: skip
    here = Path(folder).resolve()
    if here == ROOT:
        skipped |= SKIP_AT_TOP & set(names)
    elif here == ROOT / "runs":  # keep the README only
        skipped |= {n for n in names if n != "README.md"}
    return skipped


def artefacts() -> set[Path]:
    """The build outputs in the repository root (the editable install's egg-info among them)."""
    return {path for pattern in ARTEFACTS for path in ROOT.glob(pattern)}


def copy_source(destination: Path) -> Path:
    """Copies the source tree to ``destination``, adds a decoy run folder to ``runs/`` and a
    scenario family folder that the packaging config has never heard of to ``envs/``."""
    shutil.copytree(ROOT, destination, ignore=_ignore)
    decoy = destination / "runs" / "2026-01-01" / "decoy"
    (decoy / ".hydra").mkdir(parents=True)
    (decoy / ".hydra" / "config.yaml").write_text("seed: 0\n")
    (decoy / "summary.json").write_text("{}\n")
    (decoy / "__init__.py").write_text("")
    family = destination / "envs" / NEW_FAMILY
    (family / "nested").mkdir(parents=True)
    (family / "__init__.py").write_text('"""A family added after the packaging config."""\n')
    (family / "x.py").write_text("VALUE = 1\n")
    (family / "nested" / "__init__.py").write_text("")
    return destination


def build_wheel(source: Path, out: Path) -> set[str]:
    """Builds ``source``'s wheel into ``out`` and returns the names of the files in it."""
    command = [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--no-index", "--disable-pip-version-check", "--wheel-dir", str(out), str(source),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("aligngym-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def expected_modules(source: Path) -> set[str]:
    """Every module of every folder with an ``__init__.py`` under the mapped folders, as its
    path in the wheel."""
    expected = set()
    for folder, target in MAPPED.items():
        for init in (source / folder).rglob("__init__.py"):
            package = init.parent
            if "__pycache__" in package.relative_to(source).parts:
                continue
            for module in package.glob("*.py"):
                relative = module.relative_to(source / folder).as_posix()
                expected.add(f"{target}/{relative}")
    return expected


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[set[str], set[Path], set[Path]]:
    """The wheel's files, and the repository's build outputs before and after the build."""
    before = artefacts()
    source = copy_source(tmp_path_factory.mktemp("copy") / "src")
    files = build_wheel(source, tmp_path_factory.mktemp("wheel"))
    return files, before, artefacts()


@pytest.fixture(scope="module")
def wheel_files(built) -> set[str]:
    return built[0]


def test_every_subpackage_of_the_mapped_folders_ships(wheel_files):
    expected = expected_modules(ROOT)
    assert len(expected) > 20  # the walk found the tree
    assert "aligngym/envs/corrigibility/off_switch.py" in expected
    missing = sorted(expected - wheel_files)
    assert not missing, f"modules missing from the wheel: {missing}"


def test_every_config_ships(wheel_files):
    configs = {
        f"aligngym/conf/{path.relative_to(ROOT / 'conf').as_posix()}"
        for path in (ROOT / "conf").rglob("*.yaml")
    }
    assert "aligngym/conf/experiment/corrigibility/off_switch.yaml" in configs
    assert "aligngym/conf/hydra/launcher/parallel.yaml" in configs
    missing = sorted(configs - wheel_files)
    assert not missing, f"configs missing from the wheel: {missing}"


def test_nothing_outside_the_package_ships(wheel_files):
    tops = {name.split("/", 1)[0] for name in wheel_files}
    (dist_info,) = tops - {"aligngym"}
    assert dist_info.startswith("aligngym-") and dist_info.endswith(".dist-info"), tops
    stray = sorted(
        name for name in wheel_files
        if any(part in NOT_SHIPPED or part == "decoy" for part in name.split("/")[:-1])
    )  # fmt: skip
    assert not stray, f"files that must not ship: {stray}"
    assert not any(name.endswith(".pyc") or "__pycache__" in name for name in wheel_files)


def test_a_new_family_folder_ships_without_editing_the_config(wheel_files):
    for name in ("__init__.py", "x.py", "nested/__init__.py"):
        assert f"aligngym/envs/{NEW_FAMILY}/{name}" in wheel_files
    assert not (ROOT / "envs" / NEW_FAMILY).exists()  # only the copy changed


def test_the_build_leaves_nothing_in_the_repository(built):
    _, before, after = built
    assert after <= before, f"build outputs left in the repository: {sorted(after - before)}"
