"""The grid worker's phone page (/field): a small HTML shell; assets/phone/field*.js render
everything from the JSON API (field.js is the entry point, loaded last).

Plain HTML rather than Dash because the page must stay light and keep working on a bad
network: Dash needs the server for every interaction, this page needs it only to send (and
its outbox waits when it cannot). What the script needs to work offline from the first
paint — the strings, the categories, the transition table — comes in the page itself.
"""

from __future__ import annotations

from html import escape
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from dashboard.i18n import bundle, normalize_lang, other_lang, register, t
from dashboard.phone_shell import asset_url, json_for_script
from dispatch.api import the_app
from dispatch.domain.access import ROLE_ACTIONS, Role
from dispatch.domain.categories import CATEGORIES
from dispatch.domain.lifecycle import TRANSITIONS
from dispatch.service.photos import MAX_BYTES, MAX_PHOTOS

register(
    {
        "field.title": ("网格员 · 综治中心", "Grid worker · CommandHall"),
        "field.noscript": ("请在浏览器中启用 JavaScript", "Please enable JavaScript"),
        # Signing in with a device token
        "field.signin.heading": ("网格员登录", "Grid worker sign-in"),
        "field.signin.label": ("输入设备令牌", "Enter the device token"),
        "field.signin.hint": (
            "设备令牌由综治中心发放（以 dev_ 开头）。可直接打开中心发来的链接，或粘贴到这里。",
            "The centre issues device tokens (they start with dev_). Open the link it sent "
            "you, or paste the token here.",
        ),
        "field.signin.submit": ("登录", "Sign in"),
        "field.signin.checking": ("正在验证…", "Checking…"),
        "field.signin.format": ("设备令牌以 dev_ 开头", "A device token starts with dev_"),
        "field.signin.refused": ("令牌未通过：{message}", "Token refused: {message}"),
        "field.signin.offline": (
            "无法连接服务器，请检查网络后重试",
            "Cannot reach the server; check the network and try again",
        ),
        "field.signout": ("退出", "Sign out"),
        "field.signout.confirm": (
            "退出后需重新输入设备令牌。待发送的 {n} 项会保留，重新登录后继续发送。确定退出？",
            "You will need the device token again. The {n} queued items are kept and sent "
            "after you sign in. Sign out?",
        ),
        # Header and navigation
        "field.conn.online": ("在线", "Online"),
        "field.conn.offline": ("离线", "Offline"),
        "field.conn.syncing": ("同步中", "Syncing"),
        "field.queue.count": ("待发送 {n}", "{n} queued"),
        "field.lang_short": ("EN", "中文"),
        "field.tab.tasks": ("任务", "Tasks"),
        "field.tab.report": ("上报问题", "Report"),
        "field.tab.queue": ("待发送", "Outbox"),
        # GPS
        "field.gps.on": ("位置共享中", "Sharing location"),
        "field.gps.off": ("位置未共享", "Location not shared"),
        "field.gps.waiting": ("正在定位…", "Locating…"),
        "field.gps.turn_on": ("开启", "Turn on"),
        "field.gps.turn_off": ("关闭", "Turn off"),
        "field.gps.denied": ("定位权限被拒绝", "Location permission denied"),
        "field.gps.unavailable": ("暂时无法定位", "No location fix yet"),
        "field.gps.accuracy": ("±{m} 米", "±{m} m"),
        # Task list
        "field.tasks.heading": ("我的任务", "My tasks"),
        "field.tasks.empty": ("暂无任务", "No tasks"),
        "field.tasks.updated": ("更新于 {time}", "Updated {time}"),
        "field.tasks.cached": ("离线副本，更新于 {time}", "Offline copy from {time}"),
        "field.tasks.loading": ("正在加载任务…", "Loading tasks…"),
        "field.deadline.left": ("剩 {d}", "{d} left"),
        "field.deadline.over": ("超期 {d}", "{d} overdue"),
        "field.deadline.none": ("无时限", "No deadline"),
        "field.dur.dh": ("{d}天{h}小时", "{d} d {h} h"),
        "field.dur.hm": ("{h}小时{m}分", "{h} h {m} min"),
        "field.dur.m": ("{m}分钟", "{m} min"),
        "field.urgency.emergency": ("紧急", "Emergency"),
        "field.urgency.immediate": ("即办", "Same day"),
        "field.urgency.urgent": ("急件", "Urgent"),
        "field.urgency.normal": ("一般", "Normal"),
        # One task
        "field.task.back": ("‹ 任务", "‹ Tasks"),
        "field.task.missing": (
            "该任务已不在您的列表中（可能已改派、回退或结案）",
            "This task is no longer yours (reassigned, returned or closed)",
        ),
        "field.task.category": ("类别", "Category"),
        "field.task.address": ("地址", "Address"),
        "field.task.description": ("描述", "Description"),
        "field.task.deadline": ("时限", "Deadline"),
        "field.task.reported": ("上报时间", "Reported"),
        "field.task.photos": ("现场照片", "Photos"),
        "field.task.result": ("处置结果", "Result"),
        "field.task.no_photos": ("无照片", "No photos"),
        "field.task.photos_offline": ("离线时无法加载照片", "Photos need the network"),
        "field.task.waiting_close": (
            "已上报结果，等待中心核查结案",
            "Result reported; the centre will check and close it",
        ),
        "field.task.no_actions": ("当前无需操作", "Nothing to do now"),
        "field.action.accept": ("签收", "Accept"),
        "field.action.start_handling": ("开始处置", "Start handling"),
        "field.action.report_handled": ("上报结果", "Report result"),
        "field.action.return": ("回退", "Return"),
        "field.action.request_extension": ("申请延期", "Ask for more time"),
        "field.done.accept": ("已签收", "Accepted"),
        "field.done.start_handling": ("已开始处置", "Handling started"),
        "field.done.report_handled": ("处置结果已上报", "Result reported"),
        "field.done.return": ("已回退", "Returned"),
        "field.done.request_extension": ("延期申请已提交", "Extension requested"),
        # Forms
        "field.form.result": ("处置结果", "Result"),
        "field.form.result_hint": ("说明如何处置、现场现状", "What was done, how it looks now"),
        "field.form.reason": ("回退原因", "Why you return it"),
        "field.form.ext_reason": ("延期原因", "Why more time is needed"),
        "field.form.hours": ("延长小时数", "Extra hours"),
        "field.form.camera": ("拍照", "Take a photo"),
        "field.form.gallery": ("从相册选", "From the gallery"),
        "field.form.photo_count": ("{n}/{max} 张", "{n}/{max}"),
        "field.form.remove_photo": ("删除照片", "Remove photo"),
        "field.form.submit": ("提交", "Submit"),
        "field.form.cancel": ("取消", "Cancel"),
        "field.form.required": ("请填写{field}", "{field} is required"),
        "field.form.too_many": ("最多 {n} 张照片", "At most {n} photos"),
        "field.form.photo_bad": (
            "照片 {name} 无法使用：{message}",
            "Photo {name} cannot be used: {message}",
        ),
        "field.form.photo_big": ("超过 10 MB", "larger than 10 MB"),
        "field.form.photo_type": ("不是图片", "not an image"),
        # The outbox
        "field.queued": ("已保存，联网后自动发送", "Saved; it is sent as soon as possible"),
        "field.failed": ("未被接受：{label}。{message}", "Not accepted: {label}. {message}"),
        "field.pending": ("待发送", "Queued"),
        "field.pending.sending": ("发送中…", "Sending…"),
        "field.pending.retry": ("第 {n} 次未成功，{s} 秒后重试", "Try {n} failed; again in {s} s"),
        "field.pending.waiting": ("等待发送", "Waiting"),
        "field.pending.auth": ("令牌失效，登录后继续发送", "Token refused; sign in to send"),
        "field.pending.network": ("网络不通", "no network"),
        "field.pending.timeout": ("等待应答超时", "no answer in time"),
        "field.queue.heading": ("待发送", "Outbox"),
        "field.queue.empty": ("全部已发送", "Everything has been sent"),
        "field.queue.retry_now": ("立即重试", "Retry now"),
        "field.queue.discard": ("放弃", "Discard"),
        "field.queue.discard_confirm": (
            "放弃后此项不再发送，确定？",
            "This item will never be sent. Discard it?",
        ),
        "field.queue.failures": ("未被接受的提交", "Not accepted"),
        "field.queue.dismiss": ("知道了", "Dismiss"),
        "field.queue.note": (
            "提交先保存在手机上，成功送达后才会从这里消失。",
            "Submissions are kept on the phone and leave this list only once the server has "
            "confirmed them.",
        ),
        "field.kind.positions": ("位置 {n} 条", "{n} positions"),
        "field.kind.report": ("上报：{category}", "Report: {category}"),
        # A new report
        "field.report.heading": ("上报问题", "Report a problem"),
        "field.report.category": ("问题类别", "Category"),
        "field.report.choose": ("请选择", "Choose"),
        "field.report.description": ("问题描述", "Description"),
        "field.report.description_hint": ("看到了什么、在哪里", "What you see, where"),
        "field.report.address": ("地址（可选）", "Address (optional)"),
        "field.report.location": ("位置", "Location"),
        "field.report.loc_gps": ("当前位置 {acc}", "My position {acc}"),
        "field.report.loc_centre": ("地图中心（拖动地图调整）", "Map centre (drag the map)"),
        "field.report.locate": ("定位到我", "My position"),
        "field.report.submit": ("提交上报", "Send report"),
        "field.report.need_text": ("请描述问题或添加照片", "Describe the problem or add a photo"),
        "field.report.sent": ("已上报，编号 {ticket}", "Reported, ticket {ticket}"),
        "field.photo.close": ("关闭", "Close"),
        # Video calls (assets/js/call.js draws the call itself)
        "field.call.centre": ("呼叫指挥中心", "Call the centre"),
    }
)

field_page = Blueprint("field_page", __name__)


# Strings the script needs: its own, and the state and light names every page shares.
STRING_PREFIXES = ("field.", "state.", "light.", "lang.", "app.")


def page_config(lang: str, tile_url: str) -> dict[str, Any]:
    """Everything the scripts need before their first request: the phone may be offline."""
    worker_actions = ROLE_ACTIONS[Role.GRID_WORKER]
    return {
        "lang": lang,
        "strings": bundle(STRING_PREFIXES, lang),
        "categories": [
            {"code": c.code, "name": c.name if lang != "en" else c.name_en} for c in CATEGORIES
        ],
        # Only the grid worker's actions: the page works out what it may do next while a
        # step is still queued (accept, then report the result, both offline).
        "transitions": {
            a.value: {
                "from": sorted(s.value for s in tr.sources),
                "to": tr.target.value if tr.target else None,
            }
            for a, tr in TRANSITIONS.items()
            if a in worker_actions
        },
        "tile_url": tile_url,
        "max_photos": MAX_PHOTOS,
        "max_photo_bytes": MAX_BYTES,
    }


def render(lang: str, tile_url: str) -> str:
    config = json_for_script(page_config(lang, tile_url))
    switch = f"/field?lang={other_lang(lang)}"
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#0b4f9c">
<title>{escape(t("field.title", lang))}</title>
<link rel="stylesheet" href="{asset_url("vendor/leaflet/leaflet.css")}">
<link rel="stylesheet" href="{asset_url("phone/phone.css")}">
<link rel="stylesheet" href="{asset_url("call.css")}">
</head>
<body class="phone-body">
<div id="field-app" class="phone-app" data-lang-switch="{escape(switch)}"></div>
<noscript><p class="phone-empty">{escape(t("field.noscript", lang))}</p></noscript>
<script type="application/json" id="field-config">{config}</script>
<script src="{asset_url("vendor/leaflet/leaflet.js")}" defer></script>
<script src="{asset_url("vendor/socket.io.min.js")}" defer></script>
<script src="{asset_url("phone/outbox.js")}" defer></script>
<script src="{asset_url("phone/field_core.js")}" defer></script>
<script src="{asset_url("phone/field_sync.js")}" defer></script>
<script src="{asset_url("phone/field_photos.js")}" defer></script>
<script src="{asset_url("phone/field_map.js")}" defer></script>
<script src="{asset_url("phone/field_gps.js")}" defer></script>
<script src="{asset_url("phone/field_shell.js")}" defer></script>
<script src="{asset_url("phone/field_tasks.js")}" defer></script>
<script src="{asset_url("phone/field_queue.js")}" defer></script>
<script src="{asset_url("phone/field_task.js")}" defer></script>
<script src="{asset_url("phone/field_report.js")}" defer></script>
<script src="{asset_url("js/call_strings.js")}" defer></script>
<script src="{asset_url("js/call_media.js")}" defer></script>
<script src="{asset_url("js/call.js")}" defer></script>
<script src="{asset_url("phone/field.js")}" defer></script>
</body></html>"""


@field_page.get("/field")
def field() -> ResponseReturnValue:
    settings = the_app().settings
    lang = normalize_lang(request.args.get("lang"), default=settings.lang)
    headers = {
        # The token may arrive in the link (?token=dev_...): no cache keeps that URL's page,
        # and other sites (a tile server) get only the origin as Referer, never the query;
        # older browsers would send the whole URL unless told.
        "Cache-Control": "no-store",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }
    return render(lang, settings.tile_url), 200, headers
