"""API keys never reach a file or an output; names used to build file paths cannot leave their folder."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

import rcakit
from rcakit.errors import DataError

FAKE_KEY = "sk-rcakit-FAKE-0123456789abcdefSECRET"
KEY_PIECES = (FAKE_KEY, FAKE_KEY[8:], "0123456789abcdefSECRET")


def leaks(text: str) -> list[str]:
    return [piece for piece in KEY_PIECES if piece in text]


def every_file(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_bytes().decode("utf-8", errors="replace")
            for p in folder.rglob("*") if p.is_file()}


def formats(obj: Any) -> str:
    """What a notebook would store for ``obj``: every representation IPython makes of it."""
    from IPython.core.formatters import DisplayFormatter

    data, metadata = DisplayFormatter().format(obj)
    return repr(obj) + str(data) + str(metadata)


@pytest.mark.llm
def test_a_fake_key_is_used_but_never_written_shown_or_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from rcakit.graph.standin import StandInModel
    from rcakit.llm import LLMClient, LLMConfig, LLMError
    from rcakit.ui import GraphReviewer
    from tests.llm.fake_server import FakeLLMServer, Rule

    for name in list(os.environ):
        if name.startswith(("OPENAI_", "AZURE_OPENAI_", "RCAKIT_LLM_")):
            monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.DEBUG)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    outputs: list[str] = []
    with StandInModel() as model:
        monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", model.base_url)
        monkeypatch.setenv("RCAKIT_LLM_MODEL", model.model)
        monkeypatch.setenv("RCAKIT_LLM_CACHE_DIR", str(work / "llm-cache"))
        incident = rcakit.sample_incident("sim-S-cpu") if "sim-S-cpu" in rcakit.sample_names() else \
            rcakit.sample_incident(rcakit.sample_names()[0])
        draft = rcakit.draft_graph(incident)
        assert any(str(s).startswith("llm") for s in draft.meta.get("suggesters", [])), "the model was asked"
        session = rcakit.ReviewSession(draft)  # autosaves beside the "notebook" (the working folder)
        session.accept(*next(iter(draft.edges)))
        result = rcakit.attribute(session.draft, incident)
        report = rcakit.write_report(incident, attribution=result, draft=session.draft)
        assert report.writer.startswith("LLM"), "the expert wrote it"
        report.save(work / "report.html")
        report.save(work / "report.md")
        session.export(work / "graph.html")
        client = LLMClient.from_env()
        assert client is not None and client.config.api_key == FAKE_KEY
        reviewer = GraphReviewer(session, start=False)
        for obj in (draft, session, result, report, client, client.config, client.usage, reviewer):
            outputs.append(formats(obj))
        outputs.append(str(reviewer.summary) + reviewer.graph_json + str(client.config.to_dict()))
        seen_headers = [r.headers.get("authorization", "") for r in model.requests]
        assert any(FAKE_KEY in h for h in seen_headers), "the key was really sent to the endpoint"
    # An endpoint that echoes the key in its error: the exception does not.
    with FakeLLMServer([Rule(status=401, error_message=f"bad key {FAKE_KEY}; header Bearer {FAKE_KEY}")]) as echo:
        bad = LLMClient(LLMConfig(model="m", base_url=echo.base_url, api_key=FAKE_KEY, cache_dir=work / "c2"))
        with pytest.raises(LLMError) as err:
            bad.complete("hi")
        outputs += [str(err.value), repr(err.value), str(err.value.args)]
    captured = capsys.readouterr()
    outputs += [captured.out, captured.err, caplog.text]
    files = every_file(work)
    assert any(name.endswith(".rcakit-review.json") for name in files) and any("llm-cache" in n for n in files)
    leaked = {name: leaks(text) for name, text in files.items() if leaks(text)}
    assert not leaked, f"the key reached files: {leaked}"
    shown = [leaks(text) for text in outputs if leaks(text)]
    assert not shown, f"the key reached an output: {shown}"


# -- names that build paths ----------------------------------------------------------------------------
HOSTILE_NAMES = ["../../escape", "/etc/passwd", "..", "a/../../b", "C:\\Windows\\x", "name\x00.txt", "~/x", ""]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_review_autosave_name_stays_in_its_folder(tmp_path: Path, name: str) -> None:
    from rcakit.graph import CausalDraft
    from rcakit.review import default_session_path

    draft = CausalDraft(alarm="web:latency", meta={"name": name})
    path = default_session_path(draft, tmp_path)
    assert path.parent == tmp_path and path.name.endswith(".rcakit-review.json")
    assert "/" not in path.name and "\\" not in path.name and "\x00" not in path.name and not path.name.startswith(".")


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_report_panel_file_name_stays_in_its_folder(tmp_path: Path, name: str) -> None:
    from rcakit.ui import ReportPanel

    incident = _tiny_incident(name or "x")
    report = rcakit.write_report(incident, llm=None)
    panel = ReportPanel(report, folder=tmp_path)
    written = Path(panel.save("md"))
    assert written.resolve().parent == tmp_path.resolve(), written


@pytest.mark.parametrize("name", HOSTILE_NAMES[:4])
def test_incident_save_and_load_keep_files_in_the_folder(tmp_path: Path, name: str) -> None:
    from rcakit.telemetry import load_incident

    incident = _tiny_incident(name or "x")
    folder = tmp_path / "incident"
    incident.save(folder)
    inside = {p.resolve() for p in folder.rglob("*")}
    outside = {p.resolve() for p in tmp_path.rglob("*")} - inside - {folder.resolve()}
    assert not outside, f"files written outside the incident folder: {outside}"
    assert load_incident(folder).name == (name or "x")


def test_cache_paths_come_from_digests_only(tmp_path: Path) -> None:
    from rcakit.llm.cache import ResponseCache, cache_key

    cache = ResponseCache(tmp_path / "cache")
    key = cache_key({"q": "../../etc/passwd"}, model="../m", prompt_version="../v")
    assert cache.path(key).resolve().is_relative_to((tmp_path / "cache").resolve())
    with pytest.raises((DataError, ValueError)):
        cache.path("../../../outside")


def _tiny_incident(name: str) -> rcakit.Incident:
    from datetime import UTC, datetime, timedelta

    import polars as pl

    t0 = datetime(2023, 1, 30, tzinfo=UTC)
    frame = pl.DataFrame({"time": [t0 + timedelta(minutes=i) for i in range(20)], "entity": ["web"] * 20,
                          "metric": ["latency"] * 20, "value": [float(i % 3) for i in range(20)]})
    return rcakit.Incident(rcakit.Telemetry(frame), rcakit.TimeWindow(t0, t0 + timedelta(minutes=10)),
                           rcakit.TimeWindow(t0 + timedelta(minutes=10), t0 + timedelta(minutes=20)),
                           alarm="web:latency", name=name)
