"""Evidence for a case: a camera's snapshot kept with the case (调取视频截图作为证据).

The officer watching the cameras around a case saves what one of them shows. The picture is
taken by the media service (media/snapshot.py: the camera's last keyframe as a JPEG), checked
and stored like any uploaded photo (kind "evidence"), and the case's timeline gets a
`case.evidence_added` event in the same transaction, so every screen on the case updates.

Who may: the centre (duty, leader, admin) on any case, a township office on the cases of its
own territory (its jurisdiction); a case outside the principal's jurisdiction is missing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from dispatch.adapters.orm import CameraRow, PhotoRow
from dispatch.adapters.repository import CaseNotFound
from dispatch.domain.access import Principal, Role
from dispatch.domain.events import EvidenceAdded
from dispatch.service import casefile, photos
from dispatch.service.actions import case_view
from dispatch.service.core import Core
from dispatch.service.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationError

EVIDENCE_ROLES = frozenset({Role.ADMIN, Role.DUTY, Role.LEADER, Role.TOWNSHIP})


class Snapshots(Protocol):
    """What the service needs of the media side (media.embedded.EmbeddedMedia or a relay)."""

    def snapshot(self, camera_id: int) -> bytes: ...


class CameraUnavailable(ServiceError):
    """The camera cannot give a picture now (offline, too slow); trying later may work."""

    code = "camera_unavailable"
    status = 503


def may_add_evidence(principal: Principal) -> bool:
    """Whether the role may add evidence at all (the case must also be in its jurisdiction)."""
    return principal.role in EVIDENCE_ROLES


def camera_id_of(value: Any) -> int:
    """The camera id of a request body: a positive whole number, or a ValidationError."""
    if value is None or value == "":
        raise ValidationError("camera_id is required: the camera to take the snapshot from",
                              field="camera_id")  # fmt: skip
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(f"camera_id must be a whole number, got {value!r:.40}",
                              field="camera_id")  # fmt: skip
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(f"camera_id must be a whole number, got {value!r:.40}",
                              field="camera_id") from None  # fmt: skip
    if number < 1:
        raise ValidationError(f"camera_id must be positive, got {number}", field="camera_id")
    return number


def _check(core: Core, principal: Principal, case_id: int, camera_id: int) -> CameraRow:
    """The camera, once the case is in scope, the role may add evidence and the camera is
    registered and enabled."""
    with core.db.read() as session:
        try:
            casefile.visible_row(session, case_id, principal.scope)
        except NotFound:
            raise NotFound(f"case {case_id} does not exist", field="case_id") from None
        if not may_add_evidence(principal):
            raise Forbidden(
                f"a {principal.role.value} user may not add evidence to a case; the centre "
                "(duty, leader, admin) and the township office of the case may",
                field="authorization",
            )
        camera = session.get(CameraRow, camera_id)
        if camera is None:
            raise ValidationError(f"camera_id {camera_id} is not a registered camera",
                                  field="camera_id", code="unknown_camera")  # fmt: skip
        if camera.status == "disabled":
            raise Conflict(f"camera {camera_id} ({camera.name}) is disabled in the registry",
                           field="camera_id", code="camera_disabled")  # fmt: skip
        session.expunge(camera)
        return camera


def _take(media: Snapshots, camera: CameraRow) -> bytes:
    """The JPEG from the media service, its refusals as service errors."""
    from media.gateway import WatchError

    try:
        return media.snapshot(camera.id)
    except WatchError as exc:
        where = exc.field or "camera_id"
        if exc.code == "disabled":
            raise Conflict(exc.message, field=where, code="camera_disabled") from exc
        if exc.code == "not_found":
            raise ValidationError(exc.message, field=where, code="unknown_camera") from exc
        raise CameraUnavailable(
            f"no snapshot of camera {camera.id} ({camera.name}): {exc.message}", field=where
        ) from exc


def _file_name(camera: CameraRow, now: datetime, core: Core) -> str:
    """The caption kept as the photo's name: camera code, name and local time."""
    local = now.astimezone(core.timezone).strftime("%Y-%m-%d %H.%M.%S")
    return f"{camera.code} {camera.name} {local}.jpg"


def save_camera_snapshot(
    core: Core,
    principal: Principal,
    case_id: int,
    camera_id: int,
    *,
    media: Snapshots,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Take a snapshot of the camera and keep it with the case as evidence; the photo's
    urls (photos.photo_urls) plus the camera it came from."""
    camera = _check(core, principal, case_id, camera_id)
    # The picture is taken outside any transaction: it may wait seconds for a keyframe.
    data = _take(media, camera)
    now = now or core.clock.now()
    checked = photos.check_photo(photos.Upload(_file_name(camera, now, core), data))
    saved: list[PhotoRow] = []
    with core.uow() as uow:
        try:
            case = uow.cases.get(case_id)
            if not principal.scope.allows(case_view(case)):  # it moved away meanwhile
                raise NotFound(f"case {case_id} does not exist", field="case_id")
            saved = photos.save_photos(
                uow.session, core.data_dir, [checked], case_id=case_id, kind="evidence",
                uploaded_by=principal.name, now=now,
            )  # fmt: skip
            photo = {**photos.photo_urls(saved[0]), "camera_id": camera.id,
                     "camera": camera.name}  # fmt: skip
            # A note on the case, not a move through the lifecycle table (events.EvidenceAdded).
            case.events.append(
                EvidenceAdded(case_id=case_id, at=now, actor=principal.name,
                              photo_id=saved[0].id, camera_id=camera.id, camera=camera.name)
            )  # fmt: skip
            uow.commit(now)
        except CaseNotFound as exc:
            raise NotFound(str(exc), field="case_id") from exc
        finally:
            if saved and not uow.committed:
                photos.discard(core.data_dir, saved)
    return photo
