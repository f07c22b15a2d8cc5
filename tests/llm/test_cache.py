"""The answer cache on its own (no server): stable keys, atomic files, damaged files ignored."""

from __future__ import annotations

from pathlib import Path

from rcakit.llm import ResponseCache, cache_key, estimate_message_tokens, estimate_tokens


def test_keys_follow_meaning_model_and_version() -> None:
    base = cache_key({"a": 1, "b": [1, 2]}, model="m", prompt_version="v1")
    assert base == cache_key({"b": [1, 2], "a": 1}, model="m", prompt_version="v1")  # key order does not matter
    assert base != cache_key({"a": 1, "b": [2, 1]}, model="m", prompt_version="v1")
    assert base != cache_key({"a": 1, "b": [1, 2]}, model="other", prompt_version="v1")
    assert base != cache_key({"a": 1, "b": [1, 2]}, model="m", prompt_version="v2")
    assert base != cache_key({"a": 1, "b": [1, 2]}, model="m", prompt_version="v1", params={"temperature": 0.2})


def test_put_get_and_damaged_files(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = cache_key("q", model="m", prompt_version="v")
    assert cache.get(key) is None and key not in cache
    cache.put(key, "reasoning\nB", model="m", prompt_version="v", semantic={"q": 1},
              messages=[{"role": "user", "content": "q?"}], prompt_tokens=12, completion_tokens=3)
    hit = cache.get(key)
    assert hit is not None and hit.text == "reasoning\nB" and (hit.prompt_tokens, hit.completion_tokens) == (12, 3)
    assert len(cache) == 1
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]  # atomic write left nothing behind
    cache.path(key).write_text("{not json", encoding="utf-8")
    assert cache.get(key) is None  # a damaged file means: ask again
    assert cache.clear() == 1 and len(cache) == 0


def test_token_estimate_is_about_four_characters() -> None:
    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    assert estimate_message_tokens([{"role": "user", "content": "x" * 400}]) == 100 + 4 + 2
