"""UI strings of the wall (/wall) beyond the shared ones in dashboard/i18n.py.

Keys start with `wall.` so they never clash with another page's. The browser gets every
`wall.` string, and the names of categories and departments, through the page
(dashboard/wall_layout.py strings_for_browser).
"""

from __future__ import annotations

from dashboard.i18n import register

STRINGS: dict[str, tuple[str, str]] = {
    # The KPI strip (the others are dashboard/i18n.py's kpi.*)
    "wall.kpi.registered_today": ("今日立案", "Registered today"),
    "wall.kpi.closure_rate": ("结案率", "Closure rate"),
    "wall.kpi.on_time_rate": ("按期办结率", "On time"),
    "wall.kpi.satisfaction": ("群众满意率", "Satisfaction"),
    "wall.kpi.calls": ("通话中", "Calls now"),
    "wall.kpi.window": ("近30日", "30 days"),
    # Overdue warnings
    "wall.warnings": ("超期预警", "Overdue warnings"),
    "wall.warnings.empty": ("暂无超期和待报到事项", "Nothing overdue"),
    "wall.warnings.red": ("红灯", "Red"),
    "wall.warnings.yellow": ("黄灯", "Yellow"),
    "wall.warnings.whistle": ("待报到", "To report"),
    "wall.warn.over": ("超时", "over"),
    "wall.warn.left": ("剩余", "left"),
    "wall.warn.overdue": ("已超期", "overdue"),
    "wall.warn.lead": ("主办", "lead"),
    "wall.warn.co": ("协办", "co"),
    "wall.warn.report": ("报到", "Called"),
    "wall.warn.days": ("天", "d"),
    # Latest cases
    "wall.latest.title": ("最新上报", "Latest reports"),
    # Camera tiles
    "wall.tiles": ("视频监控", "Cameras"),
    "wall.tiles.near": ("红灯案件周边", "Around the red case"),
    "wall.tiles.patrol": ("视频轮巡", "Camera patrol"),
    "wall.tiles.waiting": ("视频待接入", "No video yet"),
    "wall.tiles.none": ("暂无摄像头", "No cameras"),
    # Charts
    "wall.chart.categories": ("案件类别", "Categories"),
    "wall.chart.townships": ("乡镇按期办结率", "On time, by township"),
    "wall.chart.trend": ("案件趋势", "Cases per day"),
    "wall.chart.channels": ("受理渠道", "Intake by channel"),
    "wall.chart.window": ("近30日", "30 days"),
    "wall.chart.reported": ("上报", "Reported"),
    "wall.chart.closed": ("办结", "Closed"),
    "wall.chart.today": ("今日", "Today"),
    "wall.chart.total": ("合计", "Total"),
    "wall.chart.none": ("暂无数据", "No data yet"),
    "wall.channel.citizen": ("随手拍", "Citizens"),
    "wall.channel.hotline": ("12345", "Hotline"),
    "wall.channel.grid": ("网格员", "Grid workers"),
    "wall.channel.camera": ("视频发现", "Cameras"),
    "wall.channel.app": ("第三方", "Apps"),
    # The map's legend
    "wall.legend.layers": ("图层", "Layers"),
    "wall.legend.load": ("网格在办案件", "Open cases per grid"),
    "wall.legend.hot": ("近7日热点", "7-day hotspots"),
    "wall.legend.cameras": ("摄像头", "Cameras"),
    "wall.legend.new_red": ("新增红灯", "Newly red"),
    # Incoming calls (the calls issue fills the banner)
    "wall.call.incoming": ("来电", "Incoming call"),
    # A screen that may not connect
    "wall.auth.title": ("大屏无法接入指挥中心", "This screen cannot connect"),
    "wall.auth.hint": (
        "请管理员签发新的设备令牌（commandhall device-token create），并用 /wall?token=… 打开本页",
        "Ask an administrator for a new device token (commandhall device-token create) and "
        "open /wall?token=…",
    ),
    "wall.auth.retry": ("每 30 秒自动重试", "Retrying every 30 s"),
    "wall.auth.screen_token": (
        "屏幕令牌无效或已过期",
        "the screen token is not valid or has expired",
    ),
    "wall.auth.unknown": ("服务器拒绝了本屏幕的连接", "the server refused this screen"),
    "wall.auth.token": (
        "本屏幕的设备令牌无效或已被撤销",
        "this screen's device token is not valid or was revoked",
    ),
    "wall.auth.signin": (
        "本屏幕还没有设备令牌，服务器不接受匿名大屏",
        "this screen has no device token, and the server takes no anonymous screens",
    ),
    "wall.conn.refused": ("已拒绝", "Refused"),
}

register(STRINGS)
