"""Bad input: files of no format rcakit reads, or of another format than the reader called, say what they
look like and which readers exist."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from rcakit.errors import DataError
from rcakit.telemetry import loaders
from rcakit.telemetry.loaders import FORMATS, load, read_jaeger_json, read_otlp_json, read_zipkin_json

DATA = Path(__file__).parent / "data"


def test_every_format_has_its_reader() -> None:
    for fmt in FORMATS.values():
        assert callable(getattr(loaders, fmt.reader)), fmt
        assert fmt.reader in loaders.__all__


def _refused(path: Path, looks: str) -> DataError:
    with pytest.raises(DataError) as info:
        load(path)
    message = str(info.value)
    assert looks in message, message
    for fmt in FORMATS.values():
        assert fmt.reader in message, f"{fmt.reader} missing from: {message}"
    return info.value


def test_html_page_saved_instead_of_the_export(tmp_path: Path) -> None:
    path = tmp_path / "traces.json"
    path.write_text("<!DOCTYPE html>\n<html><head><title>Grafana</title></head><body>Login</body></html>\n")
    _refused(path, "an HTML page")


def test_zip_archive_and_other_binary(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("spans.json", "{}")
    _refused(archive, "a zip archive")
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 4)
    _refused(blob, "a binary file")


def test_json_of_another_kind(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.json"
    path.write_text(json.dumps({"dashboard": {"panels": []}, "meta": {"slug": "shop"}}))
    _refused(path, "a JSON object with keys dashboard, meta")


def test_reader_called_on_another_format_names_it(tmp_path: Path) -> None:
    jaeger = DATA / "jaeger-ui_01.json"
    with pytest.raises(DataError, match="one Jaeger trace \\(use read_jaeger_json\\)"):
        read_otlp_json(jaeger)
    with pytest.raises(DataError, match="use read_jaeger_json"):
        read_zipkin_json(jaeger)
    with pytest.raises(DataError, match="use read_otlp_json"):
        read_jaeger_json(DATA / "otel-proto-trace.json")
    with pytest.raises(DataError, match="use read_jaeger_json"):
        load(jaeger, format="zipkin")


def test_load_says_why_it_chose_a_reader_that_then_failed(tmp_path: Path) -> None:
    document = json.loads((DATA / "otel-proto-trace.json").read_text())
    del document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["endTimeUnixNano"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(DataError) as info:
        load(path)
    assert "no start or end time" in info.value.problem
    assert "read it as OTLP JSON (it found JSON with \"resourceSpans\")" in (info.value.hint or "")
    with pytest.raises(ValueError, match="format must be one of"):
        load(path, format="otel")


def test_text_in_other_encodings_is_still_a_table(tmp_path: Path) -> None:
    rows = "time,entity,metric,value\n2026-01-01T00:00:00Z,caf\u00e9,cpu,1\n"
    for encoding in ("utf-16", "latin-1"):
        path = tmp_path / f"metrics-{encoding}.csv"
        path.write_bytes(rows.encode(encoding))
        assert loaders.sniff_format(path) == "csv", encoding
    assert load(tmp_path / "metrics-utf-16.csv").entities() == ["caf\u00e9"]
