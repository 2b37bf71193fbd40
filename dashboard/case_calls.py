"""The case page's calls: "视频通话" (call the case's grid worker), "召开视频会商" (convene a
conference on the case) and the recordings in the timeline. Pure builders; the buttons carry
data attributes that assets/js/call.js acts on, so no Dash callback is involved.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from dash import html

from dashboard.i18n import register, t
from dispatch.domain.calls import CALLERS, MAX_PARTICIPANTS

register(
    {
        "case.calls.heading": ("视频调度", "Video"),
        "case.calls.call": ("视频通话", "Video call"),
        "case.calls.call.title": (
            "与案件的网格员 {name} 视频通话",
            "Call the case's worker {name}",
        ),
        "case.calls.row.title": ("与本案网格员视频通话", "Video call with the case's grid worker"),
        "case.calls.no_worker": (
            "案件尚未派给网格员，无法直接通话",
            "The case has no grid worker to call yet",
        ),
        "case.calls.conference": ("召开视频会商", "Video conference"),
        "case.calls.conference.title": (
            "邀请属地乡镇、职能部门和网格员（最多 {n} 方）",
            "Invite the township, departments and workers (at most {n})",
        ),
        "case.calls.play": ("播放录像", "Play the recording"),
        "case.calls.started": ("{caller} → {callee}", "{caller} → {callee}"),
        "case.calls.conference_started": (
            "{caller} 召开视频会商：{callee}",
            "{caller} convened a conference: {callee}",
        ),
        "case.calls.answered": ("{by} 接听", "answered by {by}"),
        "case.calls.ended": ("{reason}，时长 {seconds} 秒", "{reason}, {seconds} s"),
        "case.calls.reason.hung_up": ("挂断", "hung up"),
        "case.calls.reason.declined": ("对方拒绝", "declined"),
        "case.calls.reason.empty": ("全部离开", "everybody left"),
        "case.calls.reason.media_restarted": ("媒体服务重启中断", "cut by a media restart"),
        "case.calls.reason.failed": ("连接失败", "connection failed"),
        "case.calls.reason.no_answer": ("无人接听", "no answer"),
        "case.calls.recording": ("录像 {seconds} 秒", "Recording, {seconds} s"),
    }
)
_CALLER_ROLES = frozenset(r.value for r in CALLERS)


def invite_options(
    case: Mapping[str, Any],
    *,
    townships: Mapping[int, str],
    departments: Mapping[str, str],
    workers: Iterable[tuple[int, str, int | None]],
    whistle: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Who a conference on this case may invite, the case's own ticked: its township, its
    department and the whistled ones, its grid worker; then the township's other workers and
    the other departments, unticked."""
    out: list[dict[str, Any]] = []
    township = case.get("township_id")
    if township is not None and township in townships:
        out.append({"key": f"township:{township}", "name": townships[township], "on": True})
    ticked = {d for d in (case.get("department"), *whistle) if d}
    for code in sorted(departments, key=lambda c: (c not in ticked, c)):
        out.append({"key": f"department:{code}", "name": departments[code], "on": code in ticked})
    own = case.get("worker_id")
    for worker_id, name, worker_township in sorted(workers, key=lambda w: (w[0] != own, w[0])):
        if worker_id == own or (township is not None and worker_township == township):
            out.append({"key": f"worker:{worker_id}", "name": f"网格员 {name}",
                        "on": worker_id == own})  # fmt: skip
    return out


def call_panel(
    case: Mapping[str, Any], options: list[dict[str, Any]], role: str, lang: str
) -> html.Section | None:
    """The two buttons, for those who may start calls (not a grid worker, not the wall)."""
    if role not in _CALLER_ROLES:
        return None
    worker_id = case.get("worker_id")
    worker = next((o["name"] for o in options if o["key"] == f"worker:{worker_id}"), "")
    data: dict[str, Any] = {"data-call-case": str(case["id"])}
    if worker_id is not None:
        data["data-call-worker"] = str(worker_id)
    call = html.Button(
        t("case.calls.call", lang),
        id="case-call-worker",
        className="ch-btn is-primary ch-call-start",
        disabled=worker_id is None,
        title=t("case.calls.call.title", lang).format(name=worker)
        if worker_id is not None
        else t("case.calls.no_worker", lang),
        **data,
    )
    invite: dict[str, Any] = {
        "data-call-conference": str(case["id"]),
        "data-call-invite": json.dumps(options, ensure_ascii=False),
    }
    conference = html.Button(
        t("case.calls.conference", lang),
        id="case-call-conference",
        className="ch-btn ch-call-start",
        title=t("case.calls.conference.title", lang).format(n=MAX_PARTICIPANTS),
        **invite,
    )
    return html.Section(
        [
            html.H2(t("case.calls.heading", lang)),
            html.Div([call, conference], className="case-calls"),
        ],
        id="case-calls",
        className="case-card is-calls",
    )  # fmt: skip


def call_details(kind: str, data: Mapping[str, Any], lang: str) -> Any:
    """What a call.* event adds to its timeline entry (None for any other event)."""
    if kind == "call.started":
        key = "conference_started" if data.get("kind") == "conference" else "started"
        text = t(f"case.calls.{key}", lang).format(caller=data.get("caller", ""),
                                                   callee=data.get("callee", ""))  # fmt: skip
    elif kind == "call.answered":
        text = t("case.calls.answered", lang).format(by=data.get("by", ""))
    elif kind == "call.ended":
        reason = str(data.get("end_reason", ""))
        try:
            said = t(f"case.calls.reason.{reason}", lang)
        except KeyError:
            said = reason
        text = t("case.calls.ended", lang).format(
            reason=said, seconds=f"{float(data.get('seconds') or 0):.0f}"
        )
    elif kind == "call.recorded":
        return recording_player(data, lang)
    else:
        return None
    return html.Div(text, className="case-event-data case-call-note")


def recording_player(data: Mapping[str, Any], lang: str) -> html.Div | None:
    """A call.recorded event in the timeline: its length and a player that seeks (Range)."""
    url = data.get("recording")
    if not isinstance(url, str) or not url.startswith("/api/calls/"):
        return None
    seconds = f"{float(data.get('seconds') or 0):.0f}"
    marker: dict[str, Any] = {"data-call-recording": str(data.get("call_id", ""))}
    return html.Div(
        className="case-recording",
        children=[
            html.Span(t("case.calls.recording", lang).format(seconds=seconds)),
            html.Video(src=url, controls=True, preload="metadata",
                       className="case-recording-video", **marker),
            html.A(t("case.calls.play", lang), href=url, target="_blank",
                   className="ch-link case-recording-link"),
        ],
    )  # fmt: skip


def row_call_button(item: Mapping[str, Any], role: str, lang: str) -> html.Button | None:
    """A console row's one-click call to the case's grid worker (assets/js/call.js acts on
    the data attributes), for those who may start calls; None when no worker has the case."""
    worker_id = item.get("worker_id")
    if role not in _CALLER_ROLES or worker_id is None:
        return None
    data = {"data-call-worker": str(worker_id), "data-call-case": str(item["id"])}
    return html.Button(
        t("case.calls.call", lang),
        className="ch-btn is-small ch-call-start console-call",
        title=t("case.calls.row.title", lang),
        **data,
    )
