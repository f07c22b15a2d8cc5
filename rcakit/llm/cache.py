"""An on-disk cache of model answers: one JSON file per question, written atomically.

The key is a SHA-256 of the caller's *semantic* key (what the question means, not which replica
asked it), the model, the prompt version and the sampling settings. A file holds the key's readable
parts, the messages sent, the answer and its token usage; never an API key or a request header.
Delete the folder to forget everything; delete one file to ask one question again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rcakit._io import atomic_write_json

if TYPE_CHECKING:
    from rcakit._types import JSONValue

__all__ = ["CacheEntry", "ResponseCache", "cache_key"]

CACHE_FORMAT = 1
_DIGEST = re.compile(r"[0-9a-f]{64}")
log = logging.getLogger("rcakit.llm")


def _canonical(obj: JSONValue) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def cache_key(semantic: JSONValue, *, model: str, prompt_version: str, params: Mapping[str, JSONValue] | None = None) -> str:
    """The hex digest naming one cached answer."""
    doc = {"semantic": semantic, "model": model, "prompt_version": prompt_version, "params": dict(params or {})}
    return hashlib.sha256(_canonical(doc).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    key: str
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    meta: Mapping[str, JSONValue] = field(default_factory=dict)


class ResponseCache:
    """A folder of ``<key[:2]>/<key>.json`` files. Safe across threads and processes (atomic replace)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()

    def path(self, key: str) -> Path:
        """The file of ``key``; only a SHA-256 hex digest (what :func:`cache_key` makes) names a file, so no key
        can point outside the cache folder."""
        if not _DIGEST.fullmatch(str(key)):
            raise ValueError(f"a cache key is a 64-character hex digest (from cache_key), got {str(key)[:80]!r}")
        return self.folder / key[:2] / f"{key}.json"

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> CacheEntry | None:
        path = self.path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            log.warning("ignoring unreadable cache file %s (%s); the question will be asked again", path, exc)
            return None
        if data.get("rcakit_llm_cache") != CACHE_FORMAT or data.get("key") != key or "text" not in data:
            return None
        usage = data.get("usage") or {}
        return CacheEntry(key=key, text=str(data["text"]), prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)), model=str(data.get("model", "")),
                          meta=data.get("semantic") or {})

    def put(self, key: str, text: str, *, model: str, prompt_version: str, semantic: JSONValue,
            messages: list[dict[str, str]], prompt_tokens: int, completion_tokens: int) -> Path:
        doc = {
            "rcakit_llm_cache": CACHE_FORMAT,
            "key": key,
            "model": model,
            "prompt_version": prompt_version,
            "semantic": semantic,
            "messages": [{"role": m.get("role", ""), "content": m.get("content", "")} for m in messages],
            "text": text,
            "usage": {"prompt_tokens": int(prompt_tokens), "completion_tokens": int(completion_tokens)},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        return atomic_write_json(self.path(key), doc)

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*/*.json")) if self.folder.is_dir() else 0

    def clear(self) -> int:
        """Delete every cached answer; returns how many were removed."""
        removed = 0
        if self.folder.is_dir():
            for path in self.folder.glob("*/*.json"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.folder)!r})"
