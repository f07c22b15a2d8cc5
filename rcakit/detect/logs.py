"""Log templates (drain3), their counts per entity and time bin, new and error templates, TF-IDF.

Masking (ids, numbers, IPs, hex, UUIDs, long tokens) runs vectorised in polars first; drain3 then
sees each distinct masked line once, in order of first appearance, so that mining the ~95,000 lines
of the Nezha day costs what its few hundred distinct masked lines cost. Lines wrapped in JSON
(``{"log": "..."}``, as Docker and Nezha write them) are unwrapped first.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry import Incident, Telemetry, grid
from rcakit.telemetry.window import TimeWindow, parse_duration

if TYPE_CHECKING:
    from drain3.drain import Node

    from rcakit._types import JSONObject, JSONValue

__all__ = [
    "ERROR_PATTERN",
    "MASKS",
    "LogAnalysis",
    "LogTemplateMiner",
    "analyze_logs",
    "mask_messages",
    "prepare_logs",
    "template_counts",
]

# (regex, replacement), applied in order. Rust regex syntax (polars); no look-around.
_B = r"(?-u:\b)"  # an ASCII word boundary: much faster than the Unicode one on long lines
MASKS: tuple[tuple[str, str], ...] = (
    (r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", "<UUID>"),
    (_B + r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?::[0-9]{1,5})?" + _B, "<IP>"),
    (_B + r"0[xX][0-9a-fA-F]+" + _B, "<HEX>"),
    (_B + r"[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*" + _B, "<HEX>"),
    (_B + r"[A-Za-z0-9_\-]{24,}(?:\.[A-Za-z0-9_\-]+)*" + _B, "<TOKEN>"),
    (_B + r"[0-9]+(?:\.[0-9]+)?" + _B, "<NUM>"),
)
ERROR_PATTERN = (r"(?i)\b(error|errors|exception|fail|failed|failure|fatal|panic|timeout|timed out|refused|"
                 r"unavailable|denied|unreachable|critical|severe|abort(?:ed)?|crash(?:ed)?)\b")
_LEVEL_PATTERN = r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL|SEVERE)\b"
_ERROR_LEVELS = ("ERROR", "FATAL", "CRITICAL", "SEVERE")
_STOPWORDS = frozenset(
    ["the", "and", "for", "with", "from", "this", "that", "are", "was", "were", "not", "but", "you", "your", "has", "have", "had", "its", "into", "out", "can", "will", "all", "any", "get", "set", "use", "using", "when", "then", "than", "there", "their", "them", "they", "our", "via", "per", "null", "none", "true", "false", "info", "debug", "warn", "warning", "trace", "num", "hex", "uuid", "token"]
)
_STATE_VERSION = 2  # 1 was jsonpickle, refused on load


def mask_messages(expr: pl.Expr) -> pl.Expr:
    """The message expression with every mask of :data:`MASKS` applied."""
    for pattern, replacement in MASKS:
        expr = expr.str.replace_all(pattern, replacement)
    return expr.str.replace_all(r"[ \t\r\n]+", " ").str.strip_chars()


def prepare_logs(logs: pl.DataFrame, *, max_chars: int = 2000) -> pl.DataFrame:
    """Unwrap JSON-wrapped lines, fill a missing level from the text, add ``masked`` (vectorised).

    Returns the log table with ``message`` unwrapped and two more columns: ``level`` (upper case) and
    ``masked`` (the masked message, cut at ``max_chars``).
    """
    if "message" not in logs.columns:
        raise DataError("the log table has no 'message' column", column="message",
                        hint="Build Telemetry with a logs frame that has time, entity, message")
    message = pl.col("message").fill_null("")
    # json_path_match gives null for lines that are not JSON objects with a "log" string.
    inner = pl.when(message.str.starts_with("{")).then(message.str.json_path_match("$.log"))
    out = logs.with_columns(pl.coalesce(inner, message).str.strip_chars().alias("message"))
    found_level = pl.col("message").str.slice(0, 200).str.extract(_LEVEL_PATTERN, 1)
    level = pl.col("level") if "level" in out.columns else pl.lit(None, dtype=pl.String)
    out = out.with_columns(
        pl.coalesce(level.cast(pl.String).str.to_uppercase(), found_level)
        .str.replace("^WARNING$", "WARN").alias("level")
    )
    return out.with_columns(mask_messages(pl.col("message").str.slice(0, max_chars)).alias("masked"))


class LogTemplateMiner:
    """drain3 template mining with a state that can be saved and loaded.

    ``sim_th`` and ``depth`` are drain's similarity threshold and parse-tree depth. ``fit`` learns
    templates from a log table (new lines may add templates); ``assign`` maps lines to known
    templates only (``-1`` where none matches). Template ids are drain's cluster ids: stable while
    the state grows.
    """

    def __init__(self, *, sim_th: float = 0.4, depth: int = 4, max_children: int = 100,
                 max_chars: int = 2000) -> None:
        from drain3 import TemplateMiner
        from drain3.template_miner_config import TemplateMinerConfig

        if not 0 < sim_th <= 1:
            raise DataError(f"sim_th must lie in (0, 1], got {sim_th}", hint="drain's default is 0.4")
        self.sim_th, self.depth, self.max_children, self.max_chars = sim_th, depth, max_children, max_chars
        config = TemplateMinerConfig()
        config.drain_sim_th = sim_th
        config.drain_depth = depth
        config.drain_max_children = max_children
        config.masking_instructions = []  # masking already happened in polars
        config.parametrize_numeric_tokens = True
        self._miner = TemplateMiner(config=config)
        self._cache: dict[str, int] = {}

    # -- mining --------------------------------------------------------------------------------
    def _learn(self, masked: list[str]) -> dict[str, int]:
        add = self._miner.add_log_message
        for line in masked:
            if line not in self._cache:
                self._cache[line] = int(add(line)["cluster_id"])
        return self._cache

    def fit(self, logs: pl.DataFrame) -> pl.DataFrame:
        """Mine templates from ``logs``; returns it prepared (see :func:`prepare_logs`) with ``template_id``."""
        prepared = logs if "masked" in logs.columns else prepare_logs(logs, max_chars=self.max_chars)
        order = "time" if "time" in prepared.columns else None
        masked = (prepared.sort(order, maintain_order=True) if order else prepared).get_column("masked")
        self._learn(masked.unique(maintain_order=True).to_list())
        return self._attach(prepared, self._cache)

    def assign(self, logs: pl.DataFrame) -> pl.DataFrame:
        """Map lines to the templates already mined, without learning (``template_id`` -1 if none fits)."""
        prepared = logs if "masked" in logs.columns else prepare_logs(logs, max_chars=self.max_chars)
        mapping: dict[str, int] = {}
        for line in prepared.get_column("masked").unique().to_list():
            if line in self._cache:
                mapping[line] = self._cache[line]
            else:
                cluster = self._miner.match(line)
                mapping[line] = int(cluster.cluster_id) if cluster is not None else -1
        return self._attach(prepared, mapping)

    @staticmethod
    def _attach(prepared: pl.DataFrame, mapping: dict[str, int]) -> pl.DataFrame:
        lookup = pl.DataFrame({"masked": list(mapping), "template_id": list(mapping.values())},
                              schema={"masked": pl.String, "template_id": pl.Int64})
        return prepared.join(lookup, on="masked", how="left").with_columns(pl.col("template_id").fill_null(-1))

    def templates(self) -> pl.DataFrame:
        """``template_id, template, size`` of every mined template, by id."""
        clusters = sorted(self._miner.drain.clusters, key=lambda c: c.cluster_id)
        return pl.DataFrame(
            {"template_id": [c.cluster_id for c in clusters], "template": [c.get_template() for c in clusters],
             "size": [c.size for c in clusters]},
            schema={"template_id": pl.Int64, "template": pl.String, "size": pl.Int64},
        )

    def template_text(self, template_id: int) -> str:
        cluster = self._miner.drain.id_to_cluster.get(template_id)
        return cluster.get_template() if cluster is not None else "<unknown template>"

    # -- state ---------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the miner's state (drain tree, templates, settings) to a JSON file, atomically.

        The state is plain JSON (the prefix tree as nested objects, each template as its tokens), read back
        by :meth:`load` into drain3's own classes: no pickle or jsonpickle, so loading a state file someone
        else wrote cannot run code.
        """
        from rcakit._io import atomic_write_json

        drain = self._miner.drain
        return atomic_write_json(path, {
            "rcakit_log_templates": _STATE_VERSION,
            "settings": {"sim_th": self.sim_th, "depth": self.depth, "max_children": self.max_children,
                         "max_chars": self.max_chars},
            "masks": [list(m) for m in MASKS],
            "cache": self._cache,
            "clusters": [[c.cluster_id, list(c.log_template_tokens), c.size] for c in drain.clusters],
            "clusters_counter": drain.clusters_counter,
            "tree": _tree_to_json(drain.root_node),
        })

    @classmethod
    def load(cls, path: str | Path) -> LogTemplateMiner:
        """A miner restored from :meth:`save`'s file (plain JSON, checked field by field)."""
        from drain3.drain import LogCluster

        source = str(path)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError("no log-template state file", source=source,
                            hint="Save one with LogTemplateMiner.save(path) first") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"the log-template state is not JSON ({exc})", source=source,
                            hint="Save it again with LogTemplateMiner.save(path)") from None
        version = data.get("rcakit_log_templates") if isinstance(data, dict) else None
        if version == 1:
            raise DataError("this log-template state was written by an older rcakit as jsonpickle, which is not "
                            "loaded: decoding it could run code from the file", source=source,
                            hint="Mine the templates again (LogTemplateMiner().fit(logs)) and save them")
        if version != _STATE_VERSION:
            raise DataError(f"unsupported log-template state version {version!r}",
                            source=source, hint=f"This rcakit reads version {_STATE_VERSION}")
        try:
            settings = {k: data["settings"][k] for k in ("sim_th", "depth", "max_children", "max_chars")}
            miner = cls(sim_th=float(settings["sim_th"]), depth=int(settings["depth"]),
                        max_children=int(settings["max_children"]), max_chars=int(settings["max_chars"]))
            drain = miner._miner.drain
            for cluster_id, tokens, size in data["clusters"]:
                cluster = LogCluster([str(t) for t in tokens], int(cluster_id))
                cluster.size = int(size)
                drain.id_to_cluster[cluster.cluster_id] = cluster
            drain.clusters_counter = int(data["clusters_counter"])
            drain.root_node = _tree_from_json(data["tree"])
            miner._cache = {str(k): int(v) for k, v in (data.get("cache") or {}).items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"the log-template state is incomplete or malformed ({type(exc).__name__}: {exc})",
                            source=source, hint="Save it again with LogTemplateMiner.save(path)") from None
        return miner

    def __len__(self) -> int:
        return len(self._miner.drain.clusters)

    def __repr__(self) -> str:
        return f"LogTemplateMiner({len(self)} templates, sim_th={self.sim_th}, depth={self.depth})"


def _tree_to_json(node: Node) -> JSONObject:
    return {"ids": list(node.cluster_ids),
            "children": {str(k): _tree_to_json(child) for k, child in node.key_to_child_node.items()}}


def _tree_from_json(data: JSONValue, depth: int = 0) -> Node:
    from drain3.drain import Node

    if not isinstance(data, dict) or depth > 1000:
        raise ValueError("a node of the prefix tree is not an object")
    node = Node()
    node.cluster_ids = [int(i) for i in data.get("ids") or []]
    node.key_to_child_node = {str(k): _tree_from_json(v, depth + 1) for k, v in (data.get("children") or {}).items()}
    return node


def template_counts(
    lines: pl.DataFrame,
    freq: str | timedelta,
    *,
    start: datetime | None = None,
    by: tuple[str, ...] = ("entity", "template_id"),
) -> pl.DataFrame:
    """Counts of mined lines per time bin (``time`` = bin start) and ``by`` columns (long table)."""
    step = parse_duration(freq)
    if lines.height == 0:
        return pl.DataFrame(schema={"time": pl.Datetime("ns", "UTC"), **dict.fromkeys(by, pl.String),
                                    "count": pl.Int64})
    anchor = start if start is not None else cast(datetime, lines.get_column("time").min())
    bucket = grid.bucket("time", anchor, step)
    return (lines.with_columns(bucket).group_by("time", *by).agg(pl.len().cast(pl.Int64).alias("count"))
            .sort("time", *by))


@dataclass
class LogAnalysis:
    """What the logs of an incident say, compared with its baseline.

    ``lines``: every log line of both windows with ``template_id`` and ``window`` (baseline /
    incident); ``templates``: one row per template with its counts in each window, ``is_new`` (not
    seen in the baseline), ``is_error`` (error level or keyword) and the entities that logged it;
    ``counts``: template counts per entity per time bin; ``template_tfidf`` and ``keyword_tfidf``:
    TF-IDF of templates and of keywords per entity in the incident window (documents = entities).
    """

    lines: pl.DataFrame
    templates: pl.DataFrame
    counts: pl.DataFrame
    template_tfidf: pl.DataFrame
    keyword_tfidf: pl.DataFrame
    miner: LogTemplateMiner
    freq: timedelta
    notes: list[str] = field(default_factory=list)

    def new_templates(self) -> pl.DataFrame:
        return self.templates.filter(pl.col("is_new")).sort("incident_count", descending=True)

    def error_templates(self) -> pl.DataFrame:
        return self.templates.filter(pl.col("is_error")).sort("incident_count", descending=True)

    def top_templates(self, entity: str, k: int = 5) -> pl.DataFrame:
        return self.template_tfidf.filter(pl.col("entity") == entity).head(k)

    def top_keywords(self, entity: str, k: int = 10) -> pl.DataFrame:
        return self.keyword_tfidf.filter(pl.col("entity") == entity).head(k)

    def entity_summary(self) -> pl.DataFrame:
        """Per entity: lines in each window (per minute), error lines and lines of new templates."""
        flags = self.templates.select("template_id", "is_new", "is_error")
        joined = self.lines.join(flags, on="template_id", how="left")
        return (
            joined.group_by("entity")
            .agg(
                (pl.col("window") == "baseline").sum().alias("baseline_lines"),
                (pl.col("window") == "incident").sum().alias("incident_lines"),
                ((pl.col("window") == "incident") & pl.col("is_error")).sum().alias("incident_error_lines"),
                ((pl.col("window") == "incident") & pl.col("is_new")).sum().alias("incident_new_template_lines"),
            )
            .sort("entity")
        )

    def to_frame(self) -> pl.DataFrame:
        return self.templates

    def to_dict(self) -> JSONObject:
        return {"templates": self.templates.to_dicts(), "notes": list(self.notes),
                "freq_seconds": self.freq.total_seconds()}

    def describe(self, *, top: int = 10) -> list[str]:
        from rcakit.detect.describe import describe_logs

        return describe_logs(self, top=top)

    def __repr__(self) -> str:
        return (f"LogAnalysis({self.lines.height} lines, {self.templates.height} templates, "
                f"{self.new_templates().height} new, {self.error_templates().height} error)")

    def _repr_html_(self) -> str:
        esc = html.escape
        show = self.templates.sort(["is_new", "is_error", "incident_count"], descending=True).head(15)
        rows = "".join(
            f"<tr><td>{r['template_id']}</td><td style='text-align:left'>{esc(r['template'][:160])}</td>"
            f"<td>{r['baseline_count']}</td><td>{r['incident_count']}</td>"
            f"<td>{'new' if r['is_new'] else ''} {'error' if r['is_error'] else ''}</td></tr>"
            for r in show.iter_rows(named=True)
        )
        return (f"<div><b>LogAnalysis</b>: {self.lines.height:,} lines, {self.templates.height} templates, "
                f"{self.new_templates().height} new in the incident, {self.error_templates().height} error"
                f"<table><tr><th>id</th><th>template</th><th>baseline</th><th>incident</th><th>flags</th></tr>"
                f"{rows}</table></div>")


def _tfidf(counts: pl.DataFrame, term: str) -> pl.DataFrame:
    """TF-IDF of ``term`` per entity from ``entity, term, count`` (smooth idf, as scikit-learn)."""
    if counts.height == 0:
        return counts.with_columns(pl.lit(0.0).alias("tfidf"), pl.lit(0, dtype=pl.UInt32).alias("rank"))
    n_docs = counts.get_column("entity").n_unique()
    return (
        counts.with_columns(
            (pl.col("count") / pl.col("count").sum().over("entity")).alias("tf"),
            pl.col("entity").n_unique().over(term).alias("df"),
        )
        .with_columns((pl.col("tf") * (((1 + n_docs) / (1 + pl.col("df"))).log() + 1.0)).alias("tfidf"))
        .sort(["entity", "tfidf", term], descending=[False, True, False])
        .with_columns(pl.col("tfidf").rank("ordinal", descending=True).over("entity").alias("rank"))
        .drop("tf", "df")
    )


def analyze_logs(
    source: Incident | Telemetry,
    *,
    freq: str | timedelta | None = None,
    miner: LogTemplateMiner | None = None,
    baseline_window: TimeWindow | None = None,
    incident_window: TimeWindow | None = None,
) -> LogAnalysis:
    """Mine templates of the logs in the baseline and incident windows and compare them.

    Pass an Incident (its windows are used) or a Telemetry with both windows. A miner you pass keeps
    what it learnt (and can be saved); otherwise a fresh one is used. Raises DataError when neither
    window holds a log line.
    """
    tel, base_win, inc_win, name = _windows_of(source, baseline_window, incident_window)
    step = parse_duration(freq) if freq is not None else timedelta(minutes=1)
    logs = tel.logs
    window = (
        pl.when(pl.col("time").is_between(inc_win.start, inc_win.end, closed="left")).then(pl.lit("incident"))
        .when(pl.col("time").is_between(base_win.start, base_win.end, closed="left")).then(pl.lit("baseline"))
        .otherwise(None).alias("window")
    )
    logs = logs.with_columns(window).filter(pl.col("window").is_not_null())
    notes: list[str] = []
    if logs.height == 0:
        raise DataError(f"no log lines of {name!r} in the baseline window {base_win} or the incident window {inc_win}",
                        hint="Check Telemetry.modalities and the windows; detection on metrics works without logs")
    if logs.filter(pl.col("window") == "baseline").height == 0:
        notes.append("the baseline window holds no log lines: every template counts as new")
    miner = miner or LogTemplateMiner()
    lines = miner.fit(logs)
    text = miner.templates().select("template_id", "template")
    templates = _template_table(lines, text)
    counts = template_counts(lines.select("time", "entity", "template_id"), step,
                             start=min(base_win.start, inc_win.start))
    incident_lines = lines.filter(pl.col("window") == "incident")
    template_tfidf, keyword_tfidf = _incident_tfidf(incident_lines, text)
    if incident_lines.height == 0:
        notes.append("the incident window holds no log lines")
    return LogAnalysis(lines=lines.drop("masked"), templates=templates, counts=counts,
                       template_tfidf=template_tfidf, keyword_tfidf=keyword_tfidf, miner=miner, freq=step,
                       notes=notes)


def _windows_of(source: Incident | Telemetry, baseline_window: TimeWindow | None,
                incident_window: TimeWindow | None) -> tuple[Telemetry, TimeWindow, TimeWindow, str]:
    """The telemetry, baseline and incident windows and a name to quote in errors."""
    if isinstance(source, Incident):
        if baseline_window is not None:
            base_win = TimeWindow.of(baseline_window)
        else:  # as analyze_traces: a declared fault-free recording when the baseline holds (almost) no logs
            from rcakit.detect.config import Modality
            from rcakit.detect.reference import reference_window

            base_win = reference_window(source, (Modality.LOGS,))
        return source.telemetry, base_win, incident_window or source.incident_window, source.name
    if isinstance(source, Telemetry):
        if baseline_window is None or incident_window is None:
            raise DataError("analyze_logs on a Telemetry needs baseline_window and incident_window",
                            hint="Pass both windows, or pass an Incident")
        return source, TimeWindow.of(baseline_window), TimeWindow.of(incident_window), "logs"
    raise TypeError(f"analyze_logs needs an Incident or a Telemetry, got {type(source).__name__}")


def _template_table(lines: pl.DataFrame, text: pl.DataFrame) -> pl.DataFrame:
    """One row per template: counts in each window, new, error, the entities that logged it, an example."""
    error_line = pl.col("level").is_in(list(_ERROR_LEVELS)).fill_null(False) | pl.col("message").str.contains(
        ERROR_PATTERN)
    per_template = (
        lines.with_columns(error_line.alias("_err"))
        .group_by("template_id")
        .agg(
            (pl.col("window") == "baseline").sum().cast(pl.Int64).alias("baseline_count"),
            (pl.col("window") == "incident").sum().cast(pl.Int64).alias("incident_count"),
            pl.col("_err").mean().alias("error_share"),
            pl.col("entity").unique().sort().alias("entities"),
            pl.col("message").first().alias("example"),
        )
    )
    return (
        per_template.join(text, on="template_id", how="left")
        .with_columns(
            (pl.col("baseline_count") == 0).alias("is_new"),
            ((pl.col("error_share") > 0) | pl.col("template").str.contains(ERROR_PATTERN)).alias("is_error"),
        )
        .select("template_id", "template", "baseline_count", "incident_count", "is_new", "is_error",
                "error_share", "entities", "example")
        .sort("template_id")
    )


def _incident_tfidf(incident_lines: pl.DataFrame, text: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """TF-IDF of templates and of keywords per entity in the incident window."""
    tcounts = incident_lines.group_by("entity", "template_id").agg(pl.len().cast(pl.Int64).alias("count"))
    template_tfidf = _tfidf(tcounts, "template_id").join(text, on="template_id", how="left")
    words = (
        incident_lines.group_by("entity", "masked").agg(pl.len().alias("n"))
        .with_columns(pl.col("masked").str.replace_all(r"<[A-Z]+>", " ").str.to_lowercase()
                      .str.extract_all(r"[a-z][a-z_]{2,}").alias("keyword"))
        .explode("keyword").drop_nulls("keyword")
        .filter(~pl.col("keyword").is_in(list(_STOPWORDS)))
        .group_by("entity", "keyword").agg(pl.col("n").sum().cast(pl.Int64).alias("count"))
    )
    return template_tfidf, _tfidf(words, "keyword")
