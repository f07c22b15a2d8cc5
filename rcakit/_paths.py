"""Where rcakit finds the shared datasets and its own sample data."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["repo_root", "sample_data_dir", "shared_datasets_dir"]


def repo_root() -> Path | None:
    """The source checkout that holds this package, or None for an installed wheel."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").is_file() else None


def shared_datasets_dir() -> Path | None:
    """``$RCAKIT_DATASETS`` if set, else ``../shared/datasets`` beside the checkout, else None."""
    env = os.environ.get("RCAKIT_DATASETS")
    if env:
        return Path(env)
    candidates = []
    root = repo_root()
    if root is not None:
        candidates.append(root.parent / "shared" / "datasets")
    candidates.append(Path.cwd().parent / "shared" / "datasets")
    candidates.append(Path.cwd() / ".." / ".." / "shared" / "datasets")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return None


def sample_data_dir() -> Path:
    """The folder of sample incidents made by ``rcakit.sim`` (in the checkout or beside the wheel)."""
    root = repo_root()
    if root is not None and (root / "sample_data").is_dir():
        return root / "sample_data"
    packaged = Path(__file__).resolve().parent / "_sample_data"
    return packaged
