"""Photo uploads: checked by their bytes, stored by content hash, served with thumbnails.

The type of an upload is decided by its magic number and by Pillow decoding the whole image;
the file name and the client's content type are never trusted. Originals are stored byte for
byte under data_dir/photos/<sha[:2]>/<sha>.<ext>, thumbnails next to them as <sha>.thumb.jpg;
the same bytes uploaded twice share those files but get a row each.

Known limitation: originals keep their EXIF metadata, which may hold the GPS position of the
camera and its owner's device details (personal data). Only thumbnails are re-encoded, and
they carry no EXIF.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.adapters.orm import PhotoRow
from dispatch.service.errors import NotFound, ValidationError

MAX_BYTES = 10 * 1024 * 1024  # 10 MB per photo
MAX_PHOTOS = 6  # per submission
MAX_PIXELS = 40_000_000  # refuse decompression bombs with a clear error
THUMB_SIZE = 320  # longest side of the thumbnail, px
KINDS = ("report", "result", "evidence")

PHOTOS_DIR = "photos"
THUMB_CONTENT_TYPE = "image/jpeg"


@dataclass(frozen=True)
class _Format:
    pillow_formats: tuple[str, ...]  # what Image.open may report for it
    content_type: str
    ext: str


# MPO is the multi-picture JPEG of many phone cameras: a JPEG with more frames appended.
_FORMATS = {
    "jpeg": _Format(("JPEG", "MPO"), "image/jpeg", "jpg"),
    "png": _Format(("PNG",), "image/png", "png"),
    "webp": _Format(("WEBP",), "image/webp", "webp"),
}
_EXTENSIONS = {f.content_type: f.ext for f in _FORMATS.values()}

# The files (relative to data_dir) that each row's own save created, for discard(): a file
# that was already there belongs to another row and must outlive this one. Weak, so rows
# that commit and go out of scope take their entries with them.
_created_by: weakref.WeakKeyDictionary[PhotoRow, list[str]] = weakref.WeakKeyDictionary()


def _sniff(data: bytes) -> str | None:
    """The format its magic number claims, if it is one of ours."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class Upload:
    """One file as the web layer received it."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedPhoto:
    """An upload that decoded as a JPEG, PNG or WebP; width and height as displayed."""

    data: bytes
    filename: str
    format: str  # "jpeg" | "png" | "webp"
    content_type: str
    width: int
    height: int
    sha256: str
    thumb: bytes  # JPEG


def check_photos(uploads: Sequence[Upload]) -> list[CheckedPhoto]:
    """Every upload checked, or a ValidationError about the first one that is not acceptable."""
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError(
            f"{len(uploads)} photos were sent; at most {MAX_PHOTOS} are allowed per submission",
            field="photos",
            code="too_many",
        )
    return [check_photo(upload, index=i) for i, upload in enumerate(uploads)]


def check_photo(upload: Upload, *, index: int = 0) -> CheckedPhoto:
    """The upload as a CheckedPhoto, or a ValidationError naming it (index counts from 0)."""
    filename = _clean_name(upload.filename)
    label = f"photo {index + 1} ({filename})" if filename else f"photo {index + 1}"
    data = upload.data
    # Size first: nothing over the limit is ever handed to a decoder.
    if len(data) > MAX_BYTES:
        raise ValidationError(
            f"{label} is {len(data):,} bytes; at most {MAX_BYTES:,} bytes "
            f"({MAX_BYTES // (1024 * 1024)} MB) are allowed",
            field="photos",
            code="too_large",
        )
    if not data:
        raise _unsupported(f"{label} is empty; expected a JPEG, PNG or WebP image")
    fmt = _sniff(data)
    if fmt is None:
        raise _unsupported(f"{label} is not a JPEG, PNG or WebP image")
    image = _decode(data, _FORMATS[fmt].pillow_formats, label, fmt)
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # damaged EXIF: the pixels are fine, show them as stored
        upright = image
    return CheckedPhoto(
        data=data,
        filename=filename,
        format=fmt,
        content_type=_FORMATS[fmt].content_type,
        width=upright.width,
        height=upright.height,
        sha256=hashlib.sha256(data).hexdigest(),
        thumb=_thumbnail(upright, _rgb_profile(image)),
    )


def _decode(data: bytes, pillow_formats: tuple[str, ...], label: str, fmt: str) -> Image.Image:
    """The fully decoded image; a ValidationError if it is too big or does not decode."""
    # Pillow warns above Image.MAX_IMAGE_PIXELS (89 M) and raises above twice that. Our limit
    # is lower and checked from the header before any pixel is decoded, so every image that
    # would warn is refused here anyway; turning the warning into an error would need
    # warnings.catch_warnings, which swaps process-wide state and is not thread-safe.
    try:
        with Image.open(io.BytesIO(data), formats=pillow_formats) as probe:
            _check_pixels(probe.size, label)
            probe.verify()
        image = Image.open(io.BytesIO(data), formats=pillow_formats)
        image.load()
    except ValidationError:
        raise
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(label, str(exc)) from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error…
        raise _unsupported(
            f"{label} starts like a {fmt.upper()} image but does not decode (damaged or cut "
            "short?); expected a complete JPEG, PNG or WebP image"
        ) from exc
    return image


def _check_pixels(size: tuple[int, int], label: str) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(label, f"{width}×{height} = {width * height:,} pixels")


def _too_many_pixels(label: str, detail: str) -> ValidationError:
    return ValidationError(
        f"{label} has too many pixels ({detail}); at most {MAX_PIXELS:,} pixels are allowed",
        field="photos",
        code="too_large",
    )


def _unsupported(message: str) -> ValidationError:
    return ValidationError(message, field="photos", code="unsupported_image")


def _clean_name(filename: str) -> str:
    """The base name without control characters, cut to fit PhotoRow.original_name."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable()).strip()[:200]


def _rgb_profile(image: Image.Image) -> bytes | None:
    """The image's ICC profile if it describes RGB, as the thumbnail's pixels will be."""
    profile = image.info.get("icc_profile")
    # Bytes 16-20 of an ICC header name its colour space; a CMYK or grey profile would
    # make browsers misread the RGB thumbnail.
    return profile if isinstance(profile, bytes) and profile[16:20] == b"RGB " else None


def _thumbnail(upright: Image.Image, icc_profile: bytes | None) -> bytes:
    """A JPEG no larger than THUMB_SIZE on its longest side, transparency shown on white."""
    image = upright
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode.startswith("I"):
        # 16-bit greyscale: convert() would clip everything above 255 to white.
        image = image.convert("I").point(lambda v: v / 256).convert("RGB")
    elif image.mode != "RGB":
        image = image.convert("RGB")
    else:
        image = image.copy()  # thumbnail() works in place
    image.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # The ICC profile keeps wide-gamut phone photos in their colours; no EXIF is written.
    image.save(out, "JPEG", quality=80, icc_profile=icc_profile)
    return out.getvalue()


def save_photos(
    session: Session,
    data_dir: Path,
    photos: Sequence[CheckedPhoto],
    *,
    case_id: int | None,
    kind: str,
    uploaded_by: str,
    now: datetime,
) -> list[PhotoRow]:
    """Files written (shared by content) and one flushed row per photo, in the caller's session.

    If the caller's transaction does not commit, it should call discard() with the rows.
    """
    if kind not in KINDS:
        raise ValidationError(
            f"photo kind {kind!r} is not known; use one of {', '.join(KINDS)}", field="kind"
        )
    rows: list[PhotoRow] = []
    try:
        for photo in photos:
            path, thumb_path = _relative_paths(photo.sha256, photo.content_type)
            row = PhotoRow(
                case_id=case_id,
                kind=kind,
                content_type=photo.content_type,
                width=photo.width,
                height=photo.height,
                size_bytes=len(photo.data),
                sha256=photo.sha256,
                path=path,
                thumb_path=thumb_path,
                original_name=photo.filename,
                uploaded_by=uploaded_by,
                created_at=now,
            )
            rows.append(row)
            created = _created_by[row] = []
            for relative, data in ((path, photo.data), (thumb_path, photo.thumb)):
                if _write_once(data_dir / relative, data):
                    created.append(relative)
            session.add(row)
        session.flush()  # ids now, so the caller can name the photos in its events
    except BaseException:
        discard(data_dir, rows)  # the caller never sees these rows, so cannot discard them
        raise
    return rows


def _relative_paths(sha256: str, content_type: str) -> tuple[str, str]:
    folder = f"{PHOTOS_DIR}/{sha256[:2]}"
    return f"{folder}/{sha256}.{_EXTENSIONS[content_type]}", f"{folder}/{sha256}.thumb.jpg"


def _write_once(path: Path, data: bytes) -> bool:
    """Write atomically unless the file is already there (its name is its content's hash)."""
    if path.is_file():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def photo_urls(row: PhotoRow) -> dict[str, Any]:
    """What API clients and screens are told about a photo."""
    return {
        "id": row.id,
        "url": f"/api/photos/{row.id}",
        "thumb_url": f"/api/photos/{row.id}/thumb",
        "width": row.width,
        "height": row.height,
        "content_type": row.content_type,
        "kind": row.kind,
        "created_at": row.created_at.isoformat(),
    }


def photos_of(session: Session, case_id: int) -> list[PhotoRow]:
    """The photos of a case, oldest first."""
    return list(
        session.scalars(select(PhotoRow).where(PhotoRow.case_id == case_id).order_by(PhotoRow.id))
    )


def open_photo(data_dir: Path, row: PhotoRow, *, thumb: bool) -> tuple[Path, str]:
    """The absolute path of the photo (or its thumbnail) and its content type, or NotFound."""
    path = _inside(data_dir, row.thumb_path if thumb else row.path, row.id)
    if not path.is_file():
        raise NotFound(f"the file of photo {row.id} is missing from the data directory")
    return path, THUMB_CONTENT_TYPE if thumb else row.content_type


def discard(data_dir: Path, rows: Sequence[PhotoRow]) -> None:
    """Remove the files that saving `rows` created; call it only if their transaction failed.

    Files that were already there when the rows were saved belong to other rows and stay.
    Not covered: an upload of the same bytes that finds the file in place between this save
    and its discard, and commits; that photo then answers NotFound.
    """
    for row in rows:
        for relative in _created_by.pop(row, []):
            _inside(data_dir, relative, row.id).unlink(missing_ok=True)


def _inside(data_dir: Path, relative: str, photo_id: int | None) -> Path:
    """data_dir/relative, refused unless it stays inside data_dir/photos."""
    root = (data_dir / PHOTOS_DIR).resolve()
    path = (data_dir / relative).resolve()
    if not path.is_relative_to(root):
        raise NotFound(f"photo {photo_id} has no file in the photo store")
    return path
