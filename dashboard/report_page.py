"""The citizen's phone page (/report): snap and report (随手拍), follow the status, rate.

Plain HTML and a few small scripts, not Dash: it is opened by the public on phones and bad
networks, so it must be small and work without an account. The page only carries the
strings, the categories and a few settings; assets/phone/report*.js talk to the JSON API
(POST /api/reports, GET /api/tickets/<ticket>, POST /api/tickets/<ticket>/rating).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from flask import Blueprint, make_response, request
from flask.typing import ResponseReturnValue

from dashboard.i18n import EN, bundle, normalize_lang, other_lang, register, t
from dashboard.phone_shell import asset_url, json_for_script
from dispatch.api import the_app
from dispatch.domain.categories import CATEGORIES
from dispatch.service.photos import MAX_BYTES, MAX_PHOTOS

ROOT = Path(__file__).resolve().parents[1]
PHONE_ASSETS = ROOT / "assets" / "phone"
UNSURE_CATEGORY = "other"  # "let the centre decide" files the report as 其他

register(
    {
        "report.title": ("随手拍 · 群众上报", "Snap and report"),
        "report.heading": ("随手拍", "Snap and report"),
        "report.centre": ("{county}综治中心", "{county} governance centre"),
        "report.centre.default": ("综治中心", "Governance centre"),
        "report.tab.report": ("我要上报", "Report"),
        "report.tab.status": ("查询进度", "Track"),
        "report.emergency": (
            "紧急情况请直接拨打 110、119、120",
            "In an emergency call 110, 119 or 120",
        ),
        "report.required": ("必填", "required"),
        "report.category": ("问题类别", "Category"),
        "report.category.placeholder": ("请选择", "Choose…"),
        "report.category.unsure": ("不确定，由中心判断", "Not sure: let the centre decide"),
        "report.description": ("问题描述", "What is the problem?"),
        "report.description.placeholder": (
            "请写明问题和影响，如：文昌路12号门口井盖缺失，夜里行人容易踩空",
            "e.g. The manhole cover outside 12 Wenchang Road is missing",
        ),
        "report.photos": ("现场照片", "Photos"),
        "report.photos.camera": ("拍照", "Take a photo"),
        "report.photos.album": ("从相册选", "From the gallery"),
        "report.photos.hint": (
            "最多{max}张，每张不超过{mb}MB（JPEG、PNG、WebP）",
            "Up to {max}, at most {mb} MB each (JPEG, PNG, WebP)",
        ),
        "report.photos.remove": ("删除这张照片", "Remove this photo"),
        "report.photos.unreadable": ("无法预览", "No preview"),
        "report.location": ("问题位置", "Location"),
        "report.location.use_mine": ("使用我的位置", "Use my location"),
        "report.location.hint": (
            "点“使用我的位置”，或在地图上点选；点地图可移动标记",
            "Use your location or tap the map; tap again to move the pin",
        ),
        "report.location.locating": ("正在定位…", "Finding you…"),
        "report.location.found": ("已定位，误差约{m}米", "Located, within about {m} m"),
        "report.location.picked": ("已选位置：{grid}", "Picked: {grid}"),
        "report.location.point": ("已选位置", "Point picked"),
        "report.location.denied": (
            "无法获取位置：请允许浏览器使用位置，或直接在地图上点选",
            "Your location is blocked: allow it in the browser or tap the map",
        ),
        "report.location.failed": (
            "定位失败，请在地图上点选位置",
            "Could not find you; tap the map instead",
        ),
        "report.location.unsupported": (
            "此浏览器不能定位，请在地图上点选位置",
            "This browser cannot locate you; tap the map instead",
        ),
        "report.location.outside": (
            "该位置不在本辖区的网格内，请在地图上重新选择",
            "That point is outside this county's grids; pick another on the map",
        ),
        "report.location.required": (
            "请选择问题位置：点“使用我的位置”或在地图上点选",
            "Pick the location: use your location or tap the map",
        ),
        "report.location.map": ("地图：点击选择问题位置", "Map: tap to pick the location"),
        "report.location.map_failed": (
            "地图加载失败，仍可使用“我的位置”",
            "The map did not load; you can still use your location",
        ),
        "report.address": ("详细地址", "Address"),
        "report.address.placeholder": ("如：金龙街道文昌路12号", "e.g. 12 Wenchang Road"),
        "report.optional": ("选填", "optional"),
        "report.contact": ("联系方式", "Contact"),
        "report.contact.hint": (
            "仅供工作人员核实和回访，不会公开",
            "Only for the centre to call you back; never published",
        ),
        "report.name": ("称呼", "Name"),
        "report.name.placeholder": ("如：张女士", "e.g. Ms Zhang"),
        "report.phone": ("手机号码", "Phone"),
        "report.submit": ("提交上报", "Send report"),
        "report.sending": ("正在提交…", "Sending…"),
        "report.sending.progress": ("正在上传 {pct}%", "Uploading {pct}%"),
        "report.error.category": (
            "请选择问题类别；不确定可选“由中心判断”",
            "Choose a category, or 'let the centre decide'",
        ),
        "report.error.description": ("请描述问题或添加照片", "Describe the problem or add a photo"),
        "report.error.description_long": (
            "问题描述最多{max}字，现在{n}字",
            "At most {max} characters; now {n}",
        ),
        "report.error.photo_count": ("最多上传{max}张照片", "At most {max} photos"),
        "report.error.photo_size": (
            "“{name}”有{size}MB，每张不能超过{mb}MB",
            "'{name}' is {size} MB; each photo may be at most {mb} MB",
        ),
        "report.error.photo_type": (
            "“{name}”不是 JPEG、PNG 或 WebP 图片",
            "'{name}' is not a JPEG, PNG or WebP image",
        ),
        "report.error.photo_server": (
            "照片无法使用，只能上传 JPEG、PNG 或 WebP 图片",
            "A photo cannot be used: only JPEG, PNG or WebP images",
        ),
        "report.error.photo_too_large": (
            "照片太大，每张不能超过{mb}MB",
            "A photo is too large: at most {mb} MB each",
        ),
        "report.error.phone": (
            "电话号码格式不对，只能填数字、空格和短横线",
            "That is not a phone number (digits, spaces and dashes)",
        ),
        "report.error.summary": ("请修改标出的内容后再提交", "Please fix the marked fields"),
        "report.error.network": (
            "网络连接失败，填写的内容都已保留，请稍后再点提交",
            "The network failed; everything you entered is kept, send it again later",
        ),
        "report.error.server": (
            "服务器暂时无法处理，填写的内容都已保留，请稍后再试",
            "The server could not take it now; everything is kept, try again later",
        ),
        "report.error.csrf": (
            "页面已过期，请刷新页面后重新提交",
            "This page has expired; reload it and send again",
        ),
        "report.error.too_big": (
            "照片总量太大，请减少照片后重试",
            "The photos are too large together; remove some and try again",
        ),
        "report.done.title": ("上报成功", "Report received"),
        "report.done.replayed": (
            "这份上报之前已经提交成功，以下是同一件",
            "This report had already been received; here it is",
        ),
        "report.done.ticket": ("受理编号", "Ticket number"),
        "report.done.code": ("评价码", "Rating code"),
        "report.done.keep": (
            "请记下受理编号和评价码：凭受理编号查询进度，办结后凭评价码评价。"
            "本机已保存在“我的上报”中。",
            "Keep both: the ticket number to track your report, the rating code to rate it "
            "once it is closed. This phone keeps them under 'My reports'.",
        ),
        "report.done.no_code": (
            "这份上报之前已提交成功，但本机没有收到评价码；办结后请凭受理编号联系综治中心评价。",
            "This report was received before, but this phone never got its rating code; once "
            "it is closed, give your rating to the centre with the ticket number.",
        ),
        "report.done.track": ("查看进度", "Track it"),
        "report.done.again": ("再报一件", "Report another"),
        "report.status.ticket": ("受理编号", "Ticket number"),
        "report.status.ticket.placeholder": ("如 261122-00042", "e.g. 261122-00042"),
        "report.status.lookup": ("查询", "Look up"),
        "report.status.looking": ("正在查询…", "Looking up…"),
        "report.status.required": ("请输入受理编号", "Enter the ticket number"),
        "report.status.not_found": (
            "没有找到这个受理编号，请核对后再试",
            "No report has this ticket number; check it and try again",
        ),
        "report.status.failed": (
            "查询失败，请检查网络后再试",
            "Could not look it up; check the network and try again",
        ),
        "report.status.mine": ("我的上报", "My reports"),
        "report.status.mine.empty": ("本机还没有上报记录", "No reports from this phone yet"),
        "report.status.category": ("问题类别", "Category"),
        "report.status.state": ("当前状态", "Status"),
        "report.status.reported_at": ("上报时间", "Reported"),
        "report.status.closed_at": ("办结时间", "Closed"),
        "report.status.steps": ("办理进度", "Progress"),
        "report.status.refresh": ("刷新", "Refresh"),
        "report.step.case.reported": ("已收到您的上报", "Your report was received"),
        "report.step.case.verified": ("中心已核实", "Checked by the centre"),
        "report.step.case.registered": ("已立案", "Opened as a case"),
        "report.step.case.dispatched": ("已交办责任单位", "Sent to the responsible office"),
        "report.step.case.accepted": ("责任单位已签收", "Accepted by the office"),
        "report.step.case.handling_started": ("正在现场处置", "Work has started"),
        "report.step.case.handled": ("已处置完毕", "The work is done"),
        "report.step.case.closed": ("已办结", "Closed"),
        "report.step.case.reviewed": ("已评价", "Rated"),
        "report.step.case.reopened": ("已重新交办", "Reopened for more work"),
        "report.step.case.rejected": ("不予受理", "Not taken up"),
        "report.step.case.merged": (
            "与同一问题的上报合并办理",
            "Merged with a report of the same problem",
        ),
        "report.step.case.cancelled": ("已撤销", "Withdrawn"),
        "report.step.whistle.blown": ("多部门联合处置", "Several departments called in"),
        "report.rate.title": ("请对办理结果评价", "How was it handled?"),
        "report.rate.star.1": ("非常不满意", "Very poor"),
        "report.rate.star.2": ("不满意", "Poor"),
        "report.rate.star.3": ("基本满意", "Fair"),
        "report.rate.star.4": ("满意", "Good"),
        "report.rate.star.5": ("非常满意", "Very good"),
        "report.rate.code": ("评价码", "Rating code"),
        "report.rate.code.hint": (
            "上报成功时给您的6位评价码",
            "The 6-character code you got when you reported",
        ),
        "report.rate.submit": ("提交评价", "Send rating"),
        "report.rate.choose": ("请选择星级", "Choose the stars"),
        "report.rate.code_required": ("请输入评价码", "Enter the rating code"),
        "report.rate.code_wrong": (
            "评价码不正确，请核对上报成功时给出的评价码",
            "The rating code is wrong; check the one you got when you reported",
        ),
        "report.rate.not_closed": ("案件尚未办结，暂时不能评价", "Not closed yet: rate it later"),
        "report.rate.thanks": ("感谢您的评价！", "Thank you for rating!"),
        "report.rate.reopened": (
            "已收到您的不满意评价，案件已重新交办，我们会尽快处理。",
            "Sorry it was not good enough: your case has been reopened and sent back for work.",
        ),
        "report.rate.yours": ("您的评价", "Your rating"),
    }
)


# 24x24 icons drawn with the text colour (inline: no extra request, no icon font).
ICONS = {
    "camera": "M9 4 7.5 6H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V8a2 2 0 0 0-2-2"
    "h-3.5L15 4zm3 4.5a4.5 4.5 0 1 1 0 9 4.5 4.5 0 0 1 0-9zm0 2a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 "
    "0-5z",
    "album": "M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm0 13h16"
    "l-5-6.5-3.8 4.8L8.5 12zM8 6.5a2 2 0 1 0 0 4 2 2 0 0 0 0-4z",
    "pin": "M12 2a7 7 0 0 0-7 7c0 5.2 7 13 7 13s7-7.8 7-13a7 7 0 0 0-7-7zm0 9.5a2.5 2.5 0 1 1 "
    "0-5 2.5 2.5 0 0 1 0 5z",
    "done": "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-1.4 14.2-4.3-4.3 1.4-1.4 2.9 2.9 6-6 "
    "1.4 1.4z",
}


def _icon(name: str, cls: str = "") -> str:
    class_attr = f' class="{cls}"' if cls else ""
    return (
        f'<svg{class_attr} viewBox="0 0 24 24" aria-hidden="true"><path d="{ICONS[name]}"/></svg>'
    )


def _county_name(data_dir: Path) -> str:
    """The county's name from the base map written at seed time ('' before seeding)."""
    try:
        boundary = json.loads((data_dir / "basemap" / "boundary.geojson").read_text("utf-8"))
        return str(boundary["features"][0]["properties"]["name"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return ""


def _category_options(lang: str) -> str:
    options = [
        f'<option value="" disabled selected>{t("report.category.placeholder", lang)}</option>',
        f'<option value="{UNSURE_CATEGORY}">{t("report.category.unsure", lang)}</option>',
    ]
    for c in CATEGORIES:
        if c.code != UNSURE_CATEGORY:
            name = c.name_en if lang == EN else c.name
            options.append(f'<option value="{escape(c.code)}">{escape(name)}</option>')
    return "".join(options)


def _mark(lang: str, *, required: bool) -> str:
    if required:
        return f'<span class="rp-req">{t("report.required", lang)}</span>'
    return f'<span class="rp-opt">{t("report.optional", lang)}</span>'


def _label(for_: str, key: str, lang: str, *, required: bool = False) -> str:
    return f'<label for="{for_}">{t(key, lang)}{_mark(lang, required=required)}</label>'


def _error(name: str) -> str:
    return f'<div class="rp-error" id="rp-error-{name}" role="alert" hidden></div>'


def _button(id_: str, style: str, text: str, *, kind: str = "button", icon: str = "") -> str:
    """A button; style is `primary`, `ghost` or either with ` wide`."""
    classes = " ".join(f"rp-btn-{word}" for word in style.split())
    inner = f"{_icon(icon)}{text}" if icon else text
    return f'<button type="{kind}" class="rp-btn {classes}" id="{id_}">{inner}</button>'


def _placeholder(key: str, lang: str) -> str:
    return f'placeholder="{escape(t(key, lang))}"'


def _report_form(lang: str) -> str:
    photo_hint = t("report.photos.hint", lang).format(max=MAX_PHOTOS, mb=MAX_BYTES >> 20)
    return f"""<p class="rp-emergency">{t("report.emergency", lang)}</p>
<form id="rp-form" novalidate>
<div class="rp-field" id="rp-field-category">
{_label("rp-category", "report.category", lang, required=True)}
<select id="rp-category" name="service_code" aria-describedby="rp-error-category">
{_category_options(lang)}</select>
{_error("category")}
</div>
<div class="rp-field" id="rp-field-description">
{_label("rp-description", "report.description", lang, required=True)}
<textarea id="rp-description" name="description" rows="4" maxlength="4000"
 {_placeholder("report.description.placeholder", lang)}
 aria-describedby="rp-error-description"></textarea>
<div class="rp-counter" id="rp-description-count">0/4000</div>
{_error("description")}
</div>
<div class="rp-field" id="rp-field-photos">
<div class="rp-label">{t("report.photos", lang)}</div>
<ul class="rp-photo-list" id="rp-photo-list" hidden></ul>
<div class="rp-photo-buttons">
<label class="rp-btn rp-btn-ghost" for="rp-photos" id="rp-photos-camera">
{_icon("camera")}{t("report.photos.camera", lang)}</label>
<label class="rp-btn rp-btn-ghost" for="rp-photos-album" id="rp-photos-album-button">
{_icon("album")}{t("report.photos.album", lang)}</label>
</div>
<input type="file" id="rp-photos" class="rp-file" accept="image/*" multiple
 capture="environment" aria-describedby="rp-error-photos">
<input type="file" id="rp-photos-album" class="rp-file" accept="image/*" multiple
 aria-describedby="rp-error-photos">
<div class="rp-hint">{photo_hint}</div>
{_error("photos")}
</div>
<div class="rp-field" id="rp-field-location">
<div class="rp-label">{t("report.location", lang)}{_mark(lang, required=True)}</div>
{_button("rp-locate", "ghost wide", t("report.location.use_mine", lang), icon="pin")}
<div id="rp-map" class="rp-map" role="application"
 aria-label="{escape(t("report.location.map", lang))}"></div>
<div class="rp-hint" id="rp-location-status" aria-live="polite">
{t("report.location.hint", lang)}</div>
{_error("location")}
</div>
<div class="rp-field" id="rp-field-address">
{_label("rp-address", "report.address", lang)}
<input id="rp-address" name="address" maxlength="400" autocomplete="street-address"
 {_placeholder("report.address.placeholder", lang)} aria-describedby="rp-error-address">
{_error("address")}
</div>
<fieldset class="rp-field rp-contact" id="rp-field-contact">
<legend>{t("report.contact", lang)}{_mark(lang, required=False)}</legend>
<div class="rp-hint">{t("report.contact.hint", lang)}</div>
<label for="rp-name" class="rp-sublabel">{t("report.name", lang)}</label>
<input id="rp-name" name="name" maxlength="100" autocomplete="name"
 {_placeholder("report.name.placeholder", lang)} aria-describedby="rp-error-name">
{_error("name")}
<label for="rp-phone" class="rp-sublabel">{t("report.phone", lang)}</label>
<input id="rp-phone" name="phone" type="tel" maxlength="40" autocomplete="tel"
 inputmode="tel" aria-describedby="rp-error-phone">
{_error("phone")}
</fieldset>
{_error("form")}
{_button("rp-submit", "primary wide", t("report.submit", lang), kind="submit")}
</form>"""


def _done(lang: str) -> str:
    return f"""<div class="rp-card rp-done">
{_icon("done", "rp-done-icon")}
<h2>{t("report.done.title", lang)}</h2>
<p class="rp-hint" id="rp-done-replayed" hidden>{t("report.done.replayed", lang)}</p>
<dl class="rp-codes">
<div><dt>{t("report.done.ticket", lang)}</dt><dd id="rp-done-ticket"></dd></div>
<div id="rp-done-code-row"><dt>{t("report.done.code", lang)}</dt><dd id="rp-done-code"></dd></div>
</dl>
<p class="rp-keep" id="rp-done-keep">{t("report.done.keep", lang)}</p>
{_button("rp-done-track", "primary wide", t("report.done.track", lang))}
{_button("rp-done-again", "ghost wide", t("report.done.again", lang))}
</div>"""


def _status(lang: str) -> str:
    return f"""<form id="rp-lookup" class="rp-field" novalidate>
<label for="rp-ticket">{t("report.status.ticket", lang)}</label>
<div class="rp-lookup-row">
<input id="rp-ticket" name="ticket" inputmode="numeric" autocomplete="off" maxlength="20"
 {_placeholder("report.status.ticket.placeholder", lang)} aria-describedby="rp-error-ticket">
{_button("rp-lookup-submit", "primary", t("report.status.lookup", lang), kind="submit")}
</div>
{_error("ticket")}
</form>
<div id="rp-status" class="rp-card" hidden></div>
<h2 class="rp-subhead">{t("report.status.mine", lang)}</h2>
<ul id="rp-mine" class="rp-mine"></ul>"""


def render(lang: str, *, county: str, tile_url: str, timezone: str) -> str:
    """The whole page; the script fills in the views."""
    centre = t("report.centre", lang).format(county=county) if county else ""
    config = {
        "lang": lang,
        "timezone": timezone,
        "tileUrl": tile_url,
        "maxPhotos": MAX_PHOTOS,
        "maxBytes": MAX_BYTES,
        "strings": bundle(("report.", "state."), lang),
    }
    # "</" inside a script element would end it; JSON allows "<\/".
    config_json = json_for_script(config)
    phone_css = (
        f'<link rel="stylesheet" href="{asset_url("phone/phone.css")}">\n'
        if (PHONE_ASSETS / "phone.css").exists()
        else ""
    )
    tab = 'type="button" role="tab"'
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#1459b8">
<title>{t("report.title", lang)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/vendor/leaflet/leaflet.css">
{phone_css}<link rel="stylesheet" href="{asset_url("phone/report.css")}">
</head>
<body class="rp">
<header class="rp-header">
<div class="rp-brand"><h1>{t("report.heading", lang)}</h1>
<p id="rp-centre">{escape(centre or t("report.centre.default", lang))}</p></div>
<a class="rp-lang" id="rp-lang" href="/report?lang={other_lang(lang)}">{t("lang.switch", lang)}</a>
</header>
<nav class="rp-tabs" role="tablist">
<button {tab} id="rp-tab-report" aria-controls="rp-view-report" aria-selected="true">
{t("report.tab.report", lang)}</button>
<button {tab} id="rp-tab-status" aria-controls="rp-view-status" aria-selected="false">
{t("report.tab.status", lang)}</button>
</nav>
<main class="rp-main">
<section id="rp-view-report" class="rp-view" role="tabpanel" aria-labelledby="rp-tab-report">
{_report_form(lang)}
</section>
<section id="rp-view-done" class="rp-view" hidden aria-live="polite">
{_done(lang)}
</section>
<section id="rp-view-status" class="rp-view" role="tabpanel" aria-labelledby="rp-tab-status"
 hidden>
{_status(lang)}
</section>
</main>
<script id="rp-config" type="application/json">{config_json}</script>
<script src="/assets/vendor/leaflet/leaflet.js"></script>
<script src="{asset_url("phone/report_core.js")}"></script>
<script src="{asset_url("phone/report_map.js")}"></script>
<script src="{asset_url("phone/report_form.js")}"></script>
<script src="{asset_url("phone/report_status.js")}"></script>
<script src="{asset_url("phone/report.js")}"></script>
</body></html>"""


report_page = Blueprint("report_page", __name__)


@report_page.get("/report")
def report() -> ResponseReturnValue:
    """The page; the CSRF cookie its script sends back is set on every HTML response."""
    app = the_app()
    lang = normalize_lang(request.args.get("lang"), default=app.settings.lang)
    page = render(
        lang,
        county=_county_name(Path(app.settings.data_dir)),
        tile_url=app.settings.tile_url,
        timezone=app.core.timezone.key,
    )
    response = make_response(page)
    response.headers["Content-Language"] = lang
    return response
