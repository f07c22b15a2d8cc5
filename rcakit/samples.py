"""The sample incidents that ship with rcakit (made by :mod:`rcakit.sim`; see sample_data/README.md)."""

from __future__ import annotations

from rcakit._paths import sample_data_dir
from rcakit.errors import DataError
from rcakit.telemetry import Incident, load_incident

__all__ = ["sample_incident", "sample_names"]


def sample_names() -> list[str]:
    """Names of the sample incidents, e.g. ``['sim-M-error-burst', 'sim-M-multimodal', ...]``."""
    folder = sample_data_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "incident.json").is_file())


def sample_incident(name: str) -> Incident:
    """Load one sample incident by name (see :func:`sample_names`)."""
    names = sample_names()
    if name not in names:
        raise DataError(f"no sample incident {name!r}",
                        hint=f"Choose one of {', '.join(names)}" if names else
                        "The sample_data folder is missing; regenerate it with `python -m rcakit.sim.samples`")
    return load_incident(sample_data_dir() / name)
