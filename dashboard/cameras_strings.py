"""UI strings of the camera registry page (/admin/cameras). Keys start with `cameras.`."""

from __future__ import annotations

from dashboard.i18n import register

STRINGS: dict[str, tuple[str, str]] = {
    "cameras.title": ("摄像头管理", "Cameras"),
    "cameras.brand": ("综治中心 · 摄像头管理", "CommandHall · cameras"),
    "cameras.denied": ("无权限", "No permission"),
    "cameras.denied.hint": (
        "摄像头台账仅限系统管理员维护。",
        "Only administrators keep the camera registry.",
    ),
    # The list
    "cameras.search.placeholder": ("搜索名称、编号或地址", "Search name, code or address"),
    "cameras.filter.status": ("状态", "Status"),
    "cameras.filter.any": ("全部状态", "Any status"),
    "cameras.count": ("共 {n} 个", "Cameras: {n}"),
    "cameras.count.some": (
        "显示前 {shown} 个，共 {n} 个；请搜索以缩小范围",
        "Showing the first {shown} of {n}; search to narrow it down",
    ),
    "cameras.none": ("没有符合条件的摄像头", "No camera matches"),
    "cameras.col.name": ("名称", "Name"),
    "cameras.col.code": ("编号", "Code"),
    "cameras.col.place": ("乡镇 / 网格", "Township / grid"),
    "cameras.col.source": ("视频源", "Source"),
    "cameras.col.status": ("状态", "Status"),
    "cameras.col.actions": ("操作", "Actions"),
    "cameras.status.unknown": ("未知", "Unknown"),
    "cameras.status.online": ("在线", "Online"),
    "cameras.status.offline": ("离线", "Offline"),
    "cameras.status.disabled": ("已停用", "Disabled"),
    "cameras.kind.rtsp": ("RTSP", "RTSP"),
    "cameras.kind.file": ("视频文件", "Video file"),
    "cameras.kind.mp4": ("MP4（转封装）", "MP4 (remuxed)"),
    "cameras.kind.demo": ("演示", "Demo"),
    "cameras.edit": ("编辑", "Edit"),
    "cameras.disable": ("停用", "Disable"),
    "cameras.enable": ("启用", "Enable"),
    "cameras.delete": ("删除", "Delete"),
    "cameras.delete.confirm": (
        "确定删除摄像头 {code}「{name}」？此操作不能撤销。",
        "Delete camera {code} “{name}”? This cannot be undone.",
    ),
    # The form
    "cameras.form.new": ("添加摄像头", "Add a camera"),
    "cameras.form.edit": ("编辑摄像头 {code}", "Edit camera {code}"),
    "cameras.form.save": ("保存", "Save"),
    "cameras.form.clear": ("新建", "New"),
    "cameras.field.name": ("名称", "Name"),
    "cameras.field.code": ("编号", "Code"),
    "cameras.field.lat": ("纬度", "Latitude"),
    "cameras.field.long": ("经度", "Longitude"),
    "cameras.field.source": ("视频源", "Source"),
    "cameras.field.address": ("地址", "Address"),
    "cameras.field.file": ("文件", "File"),
    "cameras.field.geometry": ("坐标", "Geometry"),
    "cameras.hint.code": ("留空则自动生成 CAM-序号", "Leave empty for CAM-<n>"),
    "cameras.hint.source": (
        "rtsp://…、演示源 demo:名称，或视频文件路径（.ts / .h264 / .264；.mp4 将转封装）",
        "rtsp://…, demo:<name>, or a video file (.ts / .h264 / .264; .mp4 is remuxed)",
    ),
    "cameras.hint.place": (
        "坐标须在本辖区网格内，据此确定乡镇和网格",
        "The point must fall in a grid here; it gives the township and grid",
    ),
    "cameras.saved.new": ("已添加摄像头 {code}「{name}」", "Added camera {code} “{name}”"),
    "cameras.saved.edit": ("已保存摄像头 {code}「{name}」", "Saved camera {code} “{name}”"),
    "cameras.saved.disabled": ("已停用 {code}", "Disabled {code}"),
    "cameras.saved.enabled": ("已启用 {code}", "Enabled {code}"),
    "cameras.saved.deleted": ("已删除 {code}", "Deleted {code}"),
    "cameras.failed": ("操作失败：{message}", "Failed: {message}"),
    # Import
    "cameras.import.title": ("批量导入", "Import"),
    "cameras.import.drop": (
        "拖放或点击选择 CSV / GeoJSON 文件",
        "Drop or choose a CSV / GeoJSON file",
    ),
    "cameras.import.help": (
        "CSV 首行为表头：编号,名称,纬度,经度,视频源,地址（或 code,name,lat,long,source,address；"
        "编号和地址可不填），UTF-8 编码。GeoJSON 为点要素集合，属性 code、name、source、address。"
        "编号已存在的更新，其余新建；任一行有误则全部不导入。最多 10,000 行、5 MB。",
        "CSV with a header row: code,name,lat,long,source,address (or 编号,名称,纬度,经度,视频源,"
        "地址; code and address may be empty), UTF-8. GeoJSON: a FeatureCollection of Points "
        "with properties code, name, source, address. A known code is updated, the rest are "
        "added; one bad row and nothing is imported. At most 10,000 rows, 5 MB.",
    ),
    "cameras.import.template": ("下载 CSV 模板", "Download a CSV template"),
    "cameras.import.ok": (
        "{file}：已导入，新建 {created} 个，更新 {updated} 个",
        "{file}: imported, {created} added, {updated} updated",
    ),
    "cameras.import.bad": (
        "{file}：{n} 行有误，未导入任何数据。请修改后重新导入。",
        "{file}: {n} rows are wrong; nothing was imported. Fix them and import again.",
    ),
    "cameras.import.failed": ("{file}：无法导入：{message}", "{file}: cannot import: {message}"),
    "cameras.import.more": ("…另有 {n} 行有误", "…and {n} more wrong rows"),
    "cameras.import.row": ("行 / 要素", "Row / feature"),
    "cameras.import.field": ("字段", "Field"),
    "cameras.import.message": ("问题", "Problem"),
}

register(STRINGS)
