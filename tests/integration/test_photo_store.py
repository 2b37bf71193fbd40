"""The photo store on a real SQLite database: rows, content-addressed files, clean-up."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from dispatch.adapters.db import Database
from dispatch.adapters.orm import PhotoRow
from dispatch.service.errors import NotFound, ValidationError
from dispatch.service.photos import (
    CheckedPhoto,
    Upload,
    check_photo,
    discard,
    open_photo,
    photo_urls,
    photos_of,
    save_photos,
)

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'photos.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def photo(fmt: str, colour: str, size: tuple[int, int] = (640, 480)) -> CheckedPhoto:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return check_photo(Upload(f"{colour}.{fmt.lower()}", out.getvalue()))


def save(
    db: Database, data_dir: Path, photos: list[CheckedPhoto], case_id: int = 7
) -> list[PhotoRow]:
    with db.writer() as session:
        rows = save_photos(
            session, data_dir, photos, case_id=case_id, kind="report", uploaded_by="ann", now=NOW
        )
        session.commit()
    return rows


def files_under(data_dir: Path) -> list[str]:
    return sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*") if p.is_file())


def test_saved_photos_are_read_back_in_order_with_their_files(db: Database, data_dir: Path) -> None:
    jpeg, png = photo("JPEG", "red"), photo("PNG", "blue", (300, 200))

    saved = save(db, data_dir, [jpeg, png])

    with db.read() as session:
        rows = photos_of(session, 7)
        assert photos_of(session, 8) == []
    assert [r.id for r in rows] == [r.id for r in saved]
    assert [(r.content_type, r.width, r.height) for r in rows] == [
        ("image/jpeg", 640, 480),
        ("image/png", 300, 200),
    ]
    assert rows[0].path == f"photos/{jpeg.sha256[:2]}/{jpeg.sha256}.jpg"
    assert rows[1].thumb_path == f"photos/{png.sha256[:2]}/{png.sha256}.thumb.jpg"
    assert (rows[0].original_name, rows[0].uploaded_by, rows[0].kind) == (
        "red.jpeg",
        "ann",
        "report",
    )
    assert rows[0].size_bytes == len(jpeg.data)
    assert rows[0].created_at == NOW

    original, content_type = open_photo(data_dir, rows[1], thumb=False)
    assert original.is_absolute() and content_type == "image/png"
    assert original.read_bytes() == png.data  # stored unchanged
    thumb, thumb_type = open_photo(data_dir, rows[1], thumb=True)
    assert thumb_type == "image/jpeg" and thumb.read_bytes() == png.thumb
    assert Image.open(thumb).format == "JPEG"


def test_photo_urls_describe_a_row_for_clients(db: Database, data_dir: Path) -> None:
    (row,) = save(db, data_dir, [photo("WEBP", "green")])

    assert photo_urls(row) == {
        "id": row.id,
        "url": f"/api/photos/{row.id}",
        "thumb_url": f"/api/photos/{row.id}/thumb",
        "width": 640,
        "height": 480,
        "content_type": "image/webp",
        "kind": "report",
        "created_at": "2026-11-22T09:30:00+00:00",
    }


def test_the_same_bytes_twice_make_two_rows_and_one_file(db: Database, data_dir: Path) -> None:
    same = photo("JPEG", "red")

    first = save(db, data_dir, [same], case_id=1)
    second = save(db, data_dir, [same], case_id=2)

    assert first[0].id != second[0].id
    assert first[0].path == second[0].path
    sha = same.sha256
    assert files_under(data_dir) == [
        f"photos/{sha[:2]}/{sha}.jpg",
        f"photos/{sha[:2]}/{sha}.thumb.jpg",
    ]  # and no temporary files left behind


def test_an_unknown_kind_is_refused_and_nothing_is_written(db: Database, data_dir: Path) -> None:
    with db.writer() as session, pytest.raises(ValidationError, match="'selfie'") as caught:
        save_photos(
            session, data_dir, [photo("PNG", "red")], case_id=1, kind="selfie",
            uploaded_by="ann", now=NOW,
        )  # fmt: skip

    assert caught.value.field == "kind"
    assert not data_dir.exists()


def test_discard_after_rollback_removes_only_the_files_that_save_created(
    db: Database, data_dir: Path
) -> None:
    kept, lost = photo("JPEG", "red"), photo("PNG", "blue")
    save(db, data_dir, [kept], case_id=1)

    with db.writer() as session:
        rows = save_photos(
            session, data_dir, [kept, lost, lost], case_id=2, kind="result", uploaded_by="bo",
            now=NOW,
        )  # fmt: skip
        assert len(files_under(data_dir)) == 4
        session.rollback()  # the case change failed: its photo rows never existed
    discard(data_dir, rows)

    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(PhotoRow)) == 1
    assert files_under(data_dir) == [
        f"photos/{kept.sha256[:2]}/{kept.sha256}.jpg",
        f"photos/{kept.sha256[:2]}/{kept.sha256}.thumb.jpg",
    ]


def test_discard_may_run_before_the_rollback_inside_the_open_transaction(
    db: Database, data_dir: Path
) -> None:
    with db.writer() as session:
        rows = save_photos(
            session, data_dir, [photo("PNG", "blue")], case_id=2, kind="result",
            uploaded_by="bo", now=NOW,
        )  # fmt: skip
        discard(data_dir, rows)
        session.rollback()

    assert files_under(data_dir) == []


def test_discard_never_removes_the_files_of_stored_photos(db: Database, data_dir: Path) -> None:
    save(db, data_dir, [photo("JPEG", "red")])
    with db.read() as session:
        stored = photos_of(session, 7)

    discard(data_dir, stored)

    assert len(files_under(data_dir)) == 2
    assert open_photo(data_dir, stored[0], thumb=False)[0].is_file()


def test_a_save_that_fails_removes_the_files_it_wrote(
    db: Database, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = photo("JPEG", "red")
    save(db, data_dir, [kept])

    def failing_flush() -> None:
        raise OSError("disk full")

    with db.writer() as session:
        monkeypatch.setattr(session, "flush", failing_flush)
        with pytest.raises(OSError, match="disk full"):
            save_photos(
                session, data_dir, [kept, photo("PNG", "blue")], case_id=3, kind="report",
                uploaded_by="ann", now=NOW,
            )  # fmt: skip

    assert files_under(data_dir) == [
        f"photos/{kept.sha256[:2]}/{kept.sha256}.jpg",
        f"photos/{kept.sha256[:2]}/{kept.sha256}.thumb.jpg",
    ]


def test_open_photo_refuses_a_path_outside_the_photo_store(
    db: Database, data_dir: Path, tmp_path: Path
) -> None:
    (row,) = save(db, data_dir, [photo("PNG", "red")])
    (tmp_path / "secret.txt").write_text("not a photo")
    row.path = "photos/../../secret.txt"

    with pytest.raises(NotFound):
        open_photo(data_dir, row, thumb=False)


def test_open_photo_answers_not_found_when_the_file_is_gone(db: Database, data_dir: Path) -> None:
    (row,) = save(db, data_dir, [photo("PNG", "red")])
    (data_dir / row.thumb_path).unlink()

    assert open_photo(data_dir, row, thumb=False)[0].is_file()
    with pytest.raises(NotFound, match=f"photo {row.id}"):
        open_photo(data_dir, row, thumb=True)
