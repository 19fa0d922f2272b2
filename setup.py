"""Package discovery for aligngym's multi-root layout; the metadata lives in pyproject.toml.

The import package ``aligngym`` is assembled from five top-level folders (``ROOTS``):
``envs/`` is ``aligngym.envs``, ``agents/`` is ``aligngym.agents``, and so on. Setuptools'
own discovery (automatic or ``[tool.setuptools.packages.find]``) names a package after its
folder, so it cannot produce ``aligngym.envs.core`` from ``envs/core``. This file walks each
root with ``find_packages`` and prefixes the names, so a new subpackage (any folder with an
``__init__.py`` under a root, e.g. ``envs/new_family/``) reaches the wheel without editing a
list. Only the roots are packaged: ``tests/``, ``runs/``, ``examples/``, ``benchmarks/`` and
``scripts/`` are not. The configs in ``conf/`` (folders without ``__init__.py``) ship as
package data of ``aligngym.conf`` (``[tool.setuptools.package-data]`` in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent

# import name -> folder, relative to this file (setuptools wants relative package_dir paths)
ROOTS = {
    "aligngym": "aligngym",
    "aligngym.envs": "envs",
    "aligngym.agents": "agents",
    "aligngym.oversight": "oversight",
    "aligngym.conf": "conf",
}


def discover_packages(roots: dict[str, str]) -> list[str]:
    """Every root and every folder with an ``__init__.py`` below it, as ``aligngym.*`` names."""
    packages = []
    for name, folder in roots.items():
        packages.append(name)
        packages += [f"{name}.{sub}" for sub in find_packages(where=str(HERE / folder))]
    return sorted(packages)


setup(package_dir=ROOTS, packages=discover_packages(ROOTS))
