"""Importing cameras from a CSV or GeoJSON file: all or nothing.

Every row is checked first with the same rules as a single camera (`cameras.clean`); one bad
row stores nothing, and the report names every bad row with its line and field.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.adapters.orm import CameraRow
from dispatch.service.cameras import (
    _FIELD_OF,
    HEADERS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    REQUIRED_COLUMNS,
    _apply,
    _free_code,
    _generated_codes,
    _lock,
    _next_id,
    clean,
)
from dispatch.service.core import Core
from dispatch.service.errors import Conflict, ValidationError

# -- importing a file ----------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int  # the CSV line (the header is line 1) or the GeoJSON feature (1-based)
    field: str | None
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did: counts when it stored everything, or every bad row and nothing
    stored."""

    rows: int
    created: int = 0
    updated: int = 0
    errors: tuple[RowError, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_wire(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "rows": self.rows, "created": self.created, "updated": self.updated,
            "errors": [{"row": e.row, "field": e.field, "message": e.message}
                       for e in self.errors],
        }  # fmt: skip


def _check_size(size: int) -> None:
    if size > MAX_IMPORT_BYTES:
        raise ValidationError(
            f"the file is {size / 1024 / 1024:.1f} MB; at most "
            f"{MAX_IMPORT_BYTES // 1024 // 1024} MB ({MAX_IMPORT_ROWS:,} cameras) per import",
            field="file",
        )


def _check_count(count: int) -> None:
    if count > MAX_IMPORT_ROWS:
        raise ValidationError(
            f"the file has {count:,} cameras; at most {MAX_IMPORT_ROWS:,} per import "
            "(split it into several files)",
            field="file",
        )


def decode_upload(data: bytes) -> str:
    """The text of an uploaded file: UTF-8, with or without a byte-order mark."""
    _check_size(len(data))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"the file is not UTF-8 text (byte {exc.start + 1}); in Excel save it as 'CSV UTF-8'",
            field="file",
        ) from None


def import_file(core: Core, filename: str, data: bytes) -> ImportReport:
    """A .csv or .geojson (.json) file, by its name."""
    suffix = PurePosixPath(filename or "").suffix.lower()
    if suffix not in (".csv", ".geojson", ".json"):
        raise ValidationError(
            f"{filename or 'the file'}: import a .csv or a .geojson file", field="file"
        )
    text = decode_upload(data)
    return import_csv(core, text) if suffix == ".csv" else import_geojson(core, text)


def import_csv(core: Core, text: str) -> ImportReport:
    """A header row (code,name,lat,long,source[,address] or 编号,名称,纬度,经度,视频源,地址),
    then one camera a line."""
    _check_size(len(text.encode("utf-8", "surrogatepass")))
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, [])
        columns, errors = _columns(header)
        if errors:
            return ImportReport(rows=0, errors=tuple(errors))
        rows: list[tuple[int, dict[str, Any]]] = []
        line = reader.line_num
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            _check_count(len(rows) + 1)
            if len(cells) > len(columns):
                wrong = f"{len(cells)} cells, but the header has {len(columns)} columns"
                rows.append((start, {"_error": (None, wrong)}))
            else:  # cells left off the end are empty
                rows.append((start, dict(zip(columns, cells, strict=False))))
    except csv.Error as exc:
        raise ValidationError(f"line {reader.line_num}: not CSV: {exc}", field="file") from None
    return _import(core, rows)


def _columns(header: Sequence[str]) -> tuple[list[str], list[RowError]]:
    columns, errors = [], []
    for cell in header:
        name = _FIELD_OF.get(cell.strip().lower())
        if name is None:
            known = ", ".join("/".join(a) for a in HEADERS.values())
            wrong = f"unknown column {cell.strip()!r}; columns: {known}"
            errors.append(RowError(1, cell.strip(), wrong))
        elif name in columns:
            errors.append(RowError(1, name, f"column {name} appears twice"))
        columns.append(name or "")
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            wrong = f"the header has no {name} column ({' / '.join(HEADERS[name])})"
            errors.append(RowError(1, name, wrong))
    return columns, errors


def import_geojson(core: Core, text: str) -> ImportReport:
    """A FeatureCollection of Points; properties code, name, source, address (others are
    ignored, so a layer exported from a map can come back as it is)."""
    _check_size(len(text.encode("utf-8", "surrogatepass")))
    try:
        doc = json.loads(text.removeprefix("\ufeff"))
    except ValueError as exc:
        raise ValidationError(f"the file is not JSON: {exc}", field="file") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ValidationError("the file must be a GeoJSON FeatureCollection", field="file")
    features = doc.get("features")
    if not isinstance(features, list):
        raise ValidationError("the FeatureCollection has no list of features", field="file")
    _check_count(len(features))
    return _import(core, [(n, _feature(f)) for n, f in enumerate(features, start=1)])


def _feature(feature: Any) -> dict[str, Any]:
    if not isinstance(feature, dict):
        return {"_error": (None, "not a GeoJSON Feature")}
    geometry = feature.get("geometry")
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return {"_error": ("geometry", "the geometry must be a Point")}
    if not isinstance(coords, list) or len(coords) < 2:
        return {"_error": ("geometry", "a Point needs coordinates [long, lat]")}
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        return {"_error": ("properties", "properties must be an object")}
    found = {_FIELD_OF.get(str(k).strip().lower()): v for k, v in properties.items()}
    values = {k: found.get(k) for k in ("code", "name", "source", "address")}
    if isinstance(values["code"], int) and not isinstance(values["code"], bool):
        values["code"] = str(values["code"])
    return {**values, "long": coords[0], "lat": coords[1]}


def _import(core: Core, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> ImportReport:
    """Check every row, then store them all in one transaction, or nothing."""
    errors: list[RowError] = []
    good: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    for line, data in rows:
        if "_error" in data:
            errors.append(RowError(line, *data["_error"]))
            continue
        try:
            values = clean(core, data)
        except ValidationError as exc:
            errors.append(RowError(line, exc.field, exc.message))
            continue
        code = values["code"]
        if code in first_line:
            errors.append(RowError(line, "code", f"code {code} is on row {first_line[code]} too"))
            continue
        if code:
            first_line[code] = line
        good.append(values)
    if errors:
        return ImportReport(rows=len(rows), errors=tuple(errors))
    if not good:
        raise ValidationError("the file has no cameras in it", field="file")
    created, updated = _store(core, good)
    return ImportReport(rows=len(rows), created=created, updated=updated)


def _by_code(session: Session, codes: Iterable[str]) -> dict[str, CameraRow]:
    found: dict[str, CameraRow] = {}
    wanted = list(codes)
    for i in range(0, len(wanted), 500):  # SQLite's limit on bound parameters
        chunk = wanted[i : i + 500]
        query = select(CameraRow).where(CameraRow.code.in_(chunk))
        found.update((r.code, r) for r in session.scalars(query))
    return found


def _store(core: Core, good: Sequence[dict[str, Any]]) -> tuple[int, int]:
    now = core.clock.now()
    created = updated = 0
    try:
        with core.uow() as uow:
            session = uow.session
            _lock(session)
            existing = _by_code(session, (v["code"] for v in good if v["code"]))
            taken = {v["code"] for v in good if v["code"]} | _generated_codes(session)
            next_id = _next_id(session)
            for values in good:
                row = existing.get(values["code"])
                if row is None:
                    row = CameraRow(id=next_id, status="unknown")
                    if not values["code"]:
                        values = values | {"code": _free_code(next_id, taken)}
                        taken.add(values["code"])
                    next_id += 1
                    session.add(row)
                    created += 1
                else:
                    updated += 1
                _apply(row, values, now)
            uow.commit(now)
    except IntegrityError:
        raise Conflict(
            "another change to the camera registry was saved at the same moment; import "
            "the file again",
            field="file",
        ) from None
    return created, updated
