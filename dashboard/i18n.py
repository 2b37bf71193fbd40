"""UI strings in Chinese (the default) and English, and the language a request asked for.

Pages call `t(key, lang)`. The browser code gets the strings it needs from the page
(`bundle(...)` into a `dcc.Store`), so there is one table, here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ZH = "zh-CN"
EN = "en"
LANGS = (ZH, EN)
DEFAULT_LANG = ZH

# key → (zh-CN, en)
_TABLE: dict[str, tuple[str, str]] = {
    "app.name": ("综治中心", "CommandHall"),
    "home.title": ("综治中心 · 社会治理综合指挥平台", "CommandHall · grassroots governance"),
    "home.wall": ("指挥大屏", "Command wall"),
    "home.wall.hint": ("实时案件地图与关键指标", "Live case map and key figures"),
    "home.console": ("值班工作台", "Duty console"),
    "home.console.hint": (
        "核实、立案、派遣、督办；乡镇和部门的办件台",
        "Verify, register, dispatch, supervise",
    ),
    "home.report": ("随手拍", "Report a problem"),
    "home.report.hint": ("群众上报问题、查询进度、评价", "Citizens report, follow and rate"),
    "home.field": ("网格员", "Grid worker"),
    "home.field.hint": ("手机任务、上报与定位（设备令牌登录）", "Phone tasks, reports, GPS"),
    "home.cameras": ("摄像头管理", "Cameras"),
    "home.cameras.hint": ("摄像头登记、导入与状态（管理员）", "Registry, import, status (admin)"),
    "lang.switch": ("English", "中文"),
    # The wall
    "wall.title": ("综治中心指挥大屏", "CommandHall wall"),
    "wall.subtitle": (
        "一网感知 · 一网纵观 · 一网指挥 · 一网协同",
        "Sense · See · Command · Cooperate",
    ),
    "wall.latest": ("最新案件", "Latest cases"),
    "wall.latest.empty": ("今日暂无案件", "No cases today"),
    "wall.by_township": ("乡镇态势", "By township"),
    "wall.by_category": ("案件类别", "By category"),
    "wall.legend.green": ("正常", "On time"),
    "wall.legend.yellow": ("黄灯催办", "Yellow: urge"),
    "wall.legend.red": ("红灯督办", "Red: overdue"),
    "wall.legend.closed": ("今日办结", "Closed today"),
    "wall.legend.cases": ("案件", "Cases"),
    "wall.legend.workers": ("网格员", "Grid workers"),
    "kpi.reported_today": ("今日上报", "Reported today"),
    "kpi.open": ("办理中", "Open"),
    "kpi.closed_today": ("今日办结", "Closed today"),
    "kpi.overdue": ("超期", "Overdue"),
    "kpi.yellow": ("黄灯", "Yellow"),
    "kpi.workers_online": ("网格员在线", "Workers online"),
    # Presence of grid workers (realtime/presence.py); online and idle both count as 在线.
    "presence.online": ("巡查中", "On patrol"),
    "presence.idle": ("静止", "Stationary"),
    "presence.offline": ("离线", "Offline"),
    "conn.connecting": ("连接中", "Connecting"),
    "conn.connected": ("已连接", "Connected"),
    "conn.reconnecting": ("重连中", "Reconnecting"),
    "conn.offline": ("离线", "Offline"),
    # Case states (see dispatch.domain.lifecycle.CaseState)
    "state.reported": ("上报", "Reported"),
    "state.verified": ("核实", "Verified"),
    "state.registered": ("立案", "Registered"),
    "state.dispatched": ("派遣", "Dispatched"),
    "state.accepted": ("签收", "Accepted"),
    "state.handling": ("处置中", "Handling"),
    "state.handled": ("已处置", "Handled"),
    "state.closed": ("结案", "Closed"),
    "state.reviewed": ("已回访", "Reviewed"),
    "state.rejected": ("不予受理", "Rejected"),
    "state.returned": ("回退", "Returned"),
    "state.suspended": ("挂起", "Suspended"),
    "state.escalated": ("上报上级", "Escalated"),
    "state.reopened": ("重办", "Reopened"),
    "state.merged": ("合并", "Merged"),
    "state.cancelled": ("撤销", "Cancelled"),
    "week.0": ("星期日", "Sunday"),
    "week.1": ("星期一", "Monday"),
    "week.2": ("星期二", "Tuesday"),
    "week.3": ("星期三", "Wednesday"),
    "week.4": ("星期四", "Thursday"),
    "week.5": ("星期五", "Friday"),
    "week.6": ("星期六", "Saturday"),
    "light.green": ("绿灯", "Green"),
    "light.yellow": ("黄灯", "Yellow"),
    "light.red": ("红灯", "Red"),
    # Live camera video (assets/js/camera_player.js), on the wall and the case page
    "camera.player.connecting": ("正在连接视频…", "Connecting video…"),
    "camera.player.playing": ("实时", "Live"),
    "camera.player.offline": ("视频中断，{s} 秒后重连", "Video lost; retrying in {s} s"),
    "camera.player.stalled": ("画面停止，正在重连", "Picture stopped; reconnecting"),
    "camera.player.error": ("无法播放：{message}", "Cannot play: {message}"),
    "camera.player.unsupported": ("此浏览器不支持 WebRTC 视频", "This browser has no WebRTC video"),
    "camera.player.nosocket": ("视频服务未连接", "Not connected to the video service"),
}


def register(strings: Mapping[str, tuple[str, str]]) -> None:
    """Add a page's own strings (key → (zh-CN, en)); a key may not mean two things.

    Registering the same strings again is harmless (Dash may import a page module twice)."""
    clash = sorted(k for k in strings if k in _TABLE and _TABLE[k] != strings[k])
    if clash:
        raise KeyError(f"UI strings defined twice: {', '.join(clash)}")
    _TABLE.update(strings)


def normalize_lang(value: str | None, default: str = DEFAULT_LANG) -> str:
    """The supported language closest to `value` (`en-US` → `en`, `zh` → `zh-CN`)."""
    if not value:
        return default
    lowered = value.strip().lower()
    if lowered.startswith("en"):
        return EN
    if lowered.startswith("zh"):
        return ZH
    return default


def t(key: str, lang: str = DEFAULT_LANG) -> str:
    """The string for `key` in `lang`; an unknown key raises KeyError naming it."""
    try:
        zh, en = _TABLE[key]
    except KeyError:
        raise KeyError(f"no UI string {key!r}; add it to dashboard/i18n.py") from None
    return en if lang == EN else zh


def keys(prefix: str) -> list[str]:
    return [k for k in _TABLE if k.startswith(prefix)]


def bundle(prefixes: Iterable[str], lang: str) -> dict[str, str]:
    """Every string whose key starts with one of `prefixes`, for the browser code."""
    wanted = tuple(prefixes)
    return {k: t(k, lang) for k in _TABLE if k.startswith(wanted)}


def other_lang(lang: str) -> str:
    return ZH if lang == EN else EN


def table() -> Mapping[str, tuple[str, str]]:
    """The whole table (for tests that check every key has both languages)."""
    return dict(_TABLE)
