"""A delimited text file (plain or gzip) into a raw polars frame, with the checks that name what is wrong.

The delimiter is sniffed (:func:`sniff_separator`), the header checked for repeated names and a
wrong delimiter, other encodings decoded (UTF-16 from its byte order mark, any codec by name, bytes
that are not UTF-8 replaced and reported), a value that does not fit the type polars guessed read as
text, and a ragged row or a last line cut off named by its row. :func:`read_csv_raw` returns the
frame as the file holds it; :mod:`._prepare` turns it into canonical columns.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from rcakit.errors import DataError, SchemaError
from rcakit.telemetry.loaders._common import (
    STRING_COLUMNS,
    PathLike,
    apply_mapping,
    as_path,
    gzip_open_error,
    is_gzip,
    read_bytes,
    read_head,
)
from rcakit.telemetry.report import LoadReport

__all__ = ["PARSE_ERROR", "SEPARATORS", "header_names", "read_csv_raw", "sniff_separator"]

SEPARATORS = (",", ";", "\t", "|")
_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def _lines(head: bytes, limit: int = 50) -> list[str]:
    text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    pieces = text.split("\n", limit)
    if len(pieces) > limit:  # the first `limit` lines are whole: split only them (a head is 64 KB)
        lines = "\n".join(pieces[:limit]).splitlines()
    else:
        lines = text.splitlines()
        if len(head) >= 1 << 16 and lines:
            lines = lines[:-1]  # the last line of a partial read may be cut
    return [line for line in lines[:limit] if line.strip()]


def sniff_separator(head: bytes) -> tuple[str, str]:
    """The delimiter of a delimited text (comma, semicolon, tab or pipe) and why it was chosen.

    The candidate that splits the header into the most fields, and every other sampled line into
    as many, wins; quotes are honoured. With no candidate splitting anything, comma is assumed.
    """
    lines = _lines(head)
    if not lines:
        return ",", "empty sample; assumed comma"
    best, best_fields, best_consistent = ",", 1, False
    for sep in SEPARATORS:
        if best_consistent and len(next(csv.reader(lines[:1], delimiter=sep))) <= best_fields:
            continue  # cannot beat a consistent split into more fields: skip splitting every line
        counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        header = counts[0]
        if header < 2:
            continue
        consistent = all(c == header for c in counts[1:])
        if (consistent, header) > (best_consistent, best_fields):
            best, best_fields, best_consistent = sep, header, consistent
    if best_fields < 2:
        return ",", "no comma, semicolon, tab or pipe splits the header; read as one column"
    how = "every sampled line" if best_consistent else "the header (other lines differ)"
    return best, f"{_SEPARATOR_NAMES[best]} splits {how} into {best_fields} fields"


def header_names(head: bytes, separator: str) -> list[str]:
    lines = _lines(head, limit=1)
    if not lines:
        return []
    return next(csv.reader(lines, delimiter=separator))


def _separator_hint(header: list[str], separator: str) -> str | None:
    if len(header) != 1:
        return None
    others = [s for s in SEPARATORS if s != separator and s in header[0]]
    if others:
        return (f"The header is one field containing {_SEPARATOR_NAMES[others[0]]}s; the file seems to use "
                f"{others[0]!r} as delimiter: pass separator={others[0]!r} (or leave separator=None to sniff)")
    return None


PARSE_ERROR = re.compile(r"could not parse `(.*?)` as dtype `(\w+)` at column '(.*?)'", re.S)


def _read_delimited(path: Path | bytes | io.BytesIO, *, separator: str, overrides: dict[str, pl.DataType],
                    source: str, encoding: str) -> tuple[pl.DataFrame, bool]:
    """polars.read_csv with the retries that turn its failures into clear errors or reported coercions."""
    overrides = dict(overrides)
    lossy = encoding == "utf8-lossy"
    for _attempt in range(64):
        try:
            df = pl.read_csv(
                path, separator=separator, schema_overrides=overrides,
                encoding="utf8-lossy" if lossy else "utf8", raise_if_empty=False,
            )
            return df, lossy
        except pl.exceptions.NoDataError:
            return pl.DataFrame(), lossy
        except OSError as exc:
            if isinstance(path, Path):
                raise gzip_open_error(path, exc) from exc
            raise DataError(f"cannot read the table ({exc})", source=source,
                            hint="Check that the file is complete and in the format you named") from exc
        except pl.exceptions.ComputeError as exc:
            text = str(exc)
            match = PARSE_ERROR.search(text)
            if match and match.group(3) not in overrides:
                # A value far down the file does not fit the type guessed from the first rows: read
                # that column as text; the Telemetry constructor reports what it cannot use.
                overrides[match.group(3)] = pl.String()
                continue
            if "invalid utf-8" in text.lower() and not lossy:
                lossy = True
                continue
            if "more fields than" in text:
                raise _ragged_error(Path(source), separator, source) from exc
            raise DataError(f"cannot read the table ({text.splitlines()[0]})", source=source,
                            hint="Check the separator, the quoting and that the file is complete") from exc
    raise DataError("cannot read the table: too many columns change type", source=source,
                    hint="Pass the types of the columns in a cleaned copy of the file")


def _text_stream(path: Path) -> io.TextIOBase:
    import gzip

    raw = gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def _ragged_error(path: Path, separator: str, source: str) -> DataError:
    """Locate the first row with more fields than the header (slow path, only on error)."""
    with _text_stream(path) as stream:
        reader = csv.reader(stream, delimiter=separator)
        header = next(reader, [])
        for row_index, row in enumerate(reader):
            if len(row) > len(header):
                return DataError(
                    f"a row has {len(row)} fields but the header has {len(header)} (line {reader.line_num})",
                    source=source, row=row_index,
                    hint=f"The delimiter {separator!r} appears inside a value without quotes, or the file mixes "
                         "delimiters; quote that field or pass the right separator=")
    return DataError("a row has more fields than the header", source=source,
                     hint="Quote fields that contain the delimiter or pass the right separator=")


_GZIP_TAIL_LIMIT = 32 << 20
_SMALL_GZIP_BYTES = 2 << 20  # compressed; below it ISA-L inflates the file before polars parses it


def _tail(path: Path, size: int = 1 << 16) -> bytes:
    if is_gzip(path):
        return read_bytes(path)[-size:]
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        length = handle.tell()
        handle.seek(max(0, length - size))
        return handle.read()


def _check_not_cut(df: pl.DataFrame, path: Path, separator: str, source: str, data: bytes | None = None) -> None:
    """A last line with fewer fields than the header and no final newline: the file was cut off.

    polars fills the missing fields with nulls silently; that would hide a truncated copy. ``data`` is
    the file's bytes when the caller has them already (a small gzip file is not inflated twice).
    """
    if df.height == 0 or df.width < 2:
        return
    if df.get_column(df.columns[-1])[-1] is not None:
        return
    if is_gzip(path) and path.stat().st_size > _GZIP_TAIL_LIMIT:
        # A cut gzip stream fails to decompress (reported as truncated) before we get here; a text
        # cut before compression is only looked for in files small enough to decompress twice.
        return
    tail = data[-(1 << 16):] if data is not None else _tail(path)
    if tail.endswith(b"\n") or tail.endswith(b"\r"):
        return
    line = tail.decode("utf-8", errors="replace").splitlines()[-1]
    fields = next(csv.reader([line], delimiter=separator), [])
    if len(fields) < df.width:
        missing = df.columns[len(fields)]
        raise DataError(
            f"the last line is cut off: it has {len(fields)} of {df.width} fields and no line end "
            f"({line[:60]!r}); the file looks truncated",
            source=source, column=missing, row=df.height - 1,
            hint="Copy or export the file again; if only that line is partial, delete it")


def _report_lossy(df: pl.DataFrame, source: str, report: LoadReport) -> None:
    for name, dtype in df.schema.items():
        if dtype == pl.String:
            count = int(df.select(pl.col(name).str.contains("\ufffd", literal=True).sum()).item() or 0)
            if count:
                report.add(source, name, "replaced bytes that are not UTF-8 by U+FFFD", count,
                           "the file is not valid UTF-8; the rest of each line is kept. Pass encoding= "
                           "(for example 'latin-1') if the file uses another encoding")


def _transcoded(path: Path, encoding: str, source: str) -> bytes:
    try:
        return read_bytes(path).decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"cannot decode the file as {encoding} (byte {exc.start})", source=source,
                        hint="Save the file again as UTF-8, or pass encoding=") from exc


def _decoded_copy(path: Path, encoding: str) -> io.BytesIO:
    return io.BytesIO(read_bytes(path).decode(encoding).encode("utf-8"))


def _string_overrides(kind: str, header: list[str], columns: Mapping[str, str] | None) -> dict[str, pl.DataType]:
    mapping = dict(columns or {})
    wanted = set(STRING_COLUMNS[kind])
    names = {mapping.get(c, c) for c in wanted}
    return {name: pl.String() for name in header if name in names}



def read_csv_raw(
    path: PathLike,
    *,
    kind: str,
    layout: str,
    columns: Mapping[str, str] | None,
    separator: str | None,
    encoding: str,
) -> tuple[pl.DataFrame, str, LoadReport]:
    file = as_path(path)
    source = str(file)
    report = LoadReport()
    normalized = encoding.lower().replace("-", "").replace("_", "")
    # A large gzip file goes to polars as a path: its streaming inflater overlaps with parsing and
    # holds less memory (1 M rows: 0.26 s vs 0.38 s through ISA-L). A small one pays polars' set-up
    # per file: inflated by ISA-L it reads a third faster (the Nezha day's 102 files: 0.36 vs 0.47 s).
    small_gzip = normalized in {"utf8", "utf8lossy"} and file.stat().st_size < _SMALL_GZIP_BYTES and is_gzip(file)
    data = read_bytes(file) if small_gzip else None
    head = data[: 1 << 16] if data is not None else read_head(file)
    if normalized == "utf8" and head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16 text (Excel's "Unicode text", PowerShell's default): decoded whole, and said so.
        data = _transcoded(file, "utf-16", source)
        head = data[: 1 << 16]
        report.add(source, None, "decoded UTF-16 text (byte order mark)", max(data.count(b"\n") - 1, 1),
                   "the file starts with a UTF-16 byte order mark; rcakit reads it as UTF-16")
    if separator is None:
        separator, why = sniff_separator(head)
        sniffed = True
    else:
        why, sniffed = "", False
    header = header_names(head, separator)
    if not header:
        raise DataError("the file has no header line", source=source,
                        hint="The first line must name the columns")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        first = repeated[0]
        places = [str(i + 1) for i, name in enumerate(header) if name == first]
        raise SchemaError(f"the header names column {first!r} more than once (fields {', '.join(places)})",
                          source=source, column=first,
                          hint="Rename one of them in the file; rcakit will not guess which one holds the data")
    target: Path | io.BytesIO | bytes = file if data is None else data
    if normalized not in {"utf8", "utf8lossy"}:
        try:
            target = _decoded_copy(file, encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot decode the file as {encoding!r} ({exc})", source=source,
                            hint="Pass the file's encoding, for example encoding='latin-1'") from exc
    try:
        apply_mapping(header, kind=kind, columns=columns, source=source, report=LoadReport(), layout=layout)
    except SchemaError as exc:
        hint = _separator_hint(header, separator)
        if hint:
            raise SchemaError(exc.problem, source=source, column=exc.column, hint=hint) from exc
        raise
    df, lossy = _read_delimited(target, separator=separator,
                                overrides=_string_overrides(kind, header, columns), source=source,
                                encoding="utf8-lossy" if normalized == "utf8lossy" else "utf8")
    del target
    if sniffed and df.height:
        report.add(source, None, f"read with delimiter {separator!r} (sniffed)", df.height,
                   f"{why}; pass separator= to choose")
    if normalized in {"utf8", "utf8lossy"}:
        _check_not_cut(df, file, separator, source, data)
    del data
    if lossy:
        _report_lossy(df, source, report)
    return df, source, report
