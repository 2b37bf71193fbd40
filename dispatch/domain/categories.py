"""The 21 categories of the seeds and the departments responsible for them (谁主管、谁负责)."""

from __future__ import annotations

from dispatch.domain.org import Category, Department

DEPARTMENTS: tuple[Department, ...] = (
    Department("housing", "住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    Department("emergency", "应急管理局", "Emergency Management Bureau"),
    Department("justice", "司法局", "Justice Bureau"),
    Department("natres", "自然资源局", "Natural Resources Bureau"),
    Department("ecoenv", "生态环境分局", "Ecology and Environment Bureau"),
    Department("transport", "交通运输局", "Transport Bureau"),
    Department("urbanmgmt", "城市管理局", "Urban Management Bureau"),
    Department("fire", "消防救援大队", "Fire and Rescue Brigade"),
    Department("hrss", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    Department("womens", "妇女联合会", "Women's Federation"),
    Department("market", "市场监督管理局", "Market Regulation Bureau"),
    Department("civil", "民政局", "Civil Affairs Bureau"),
    Department("police", "公安局", "Public Security Bureau"),
    Department("utilities", "水务和供电服务中心", "Water and Power Services"),
)

CATEGORIES: tuple[Category, ...] = (
    Category("property", "物业管理", "Property management", "housing", "normal",
             ("物业", "小区", "电梯", "停车费")),
    Category("safety", "安全隐患", "Safety hazard", "emergency", "urgent",
             ("隐患", "倒塌", "坍塌", "危险", "电杆")),
    Category("neighbour", "邻里纠纷", "Neighbour dispute", "justice", "normal",
             ("邻居", "纠纷", "吵架", "矛盾")),
    Category("land", "征地拆迁", "Land acquisition and demolition", "natres", "normal",
             ("征地", "拆迁", "补偿")),
    Category("pollution", "环境污染", "Environmental pollution", "ecoenv", "urgent",
             ("污染", "排污", "臭味", "黑烟", "污水")),
    Category("road", "道路设施损坏", "Damaged road facilities", "transport", "urgent",
             ("道路", "路面", "坑", "井盖", "路灯", "护栏")),
    Category("garbage", "垃圾满溢", "Overflowing rubbish", "urbanmgmt", "immediate",
             ("垃圾", "满溢", "垃圾桶", "清运")),
    Category("parking", "乱停乱放", "Illegal parking", "police", "immediate",
             ("乱停", "占道", "停车", "堵")),
    Category("cityscape", "市容市貌", "City appearance", "urbanmgmt", "normal",
             ("广告", "摊点", "占道经营", "乱贴")),
    Category("building", "违章建筑", "Illegal construction", "natres", "normal",
             ("违建", "违章", "搭建", "加盖")),
    Category("firerisk", "消防隐患", "Fire hazard", "fire", "emergency",
             ("消防", "火", "通道", "灭火器", "起火")),
    Category("wages", "劳资纠纷", "Wage dispute", "hrss", "urgent",
             ("工资", "欠薪", "拖欠", "劳资")),
    Category("family", "婚恋家庭", "Marriage and family", "womens", "normal",
             ("家庭", "婚姻", "家暴", "赡养")),
    Category("noise", "噪音扰民", "Noise nuisance", "ecoenv", "immediate",
             ("噪音", "吵", "施工", "广场舞")),
    Category("utilities", "水电暖", "Water, power and heating", "utilities", "immediate",
             ("停水", "停电", "暖气", "水管", "漏水")),
    Category("market", "市场监管", "Market regulation", "market", "normal",
             ("食品", "价格", "假冒", "过期")),
    Category("welfare", "社会救助", "Social assistance", "civil", "urgent",
             ("低保", "救助", "困难", "孤寡", "养老")),
    Category("publicorder", "治安", "Public order", "police", "urgent",
             ("治安", "偷", "盗", "打架", "诈骗")),
    Category("traffic", "交通", "Traffic", "transport", "urgent",
             ("交通", "红绿灯", "信号灯", "公交")),
    Category("publicservice", "公共服务", "Public services", "civil", "normal",
             ("办事", "服务", "窗口", "证件")),
    Category("other", "其他", "Other", "urbanmgmt", "normal", ()),
)  # fmt: skip

CATEGORY_BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}
DEPARTMENT_BY_CODE: dict[str, Department] = {d.code: d for d in DEPARTMENTS}


def suggest_category(text: str) -> Category:
    """The category whose keywords best match `text`; 其他 when none does."""
    best, best_hits = CATEGORY_BY_CODE["other"], 0
    for category in CATEGORIES:
        hits = sum(1 for k in category.keywords if k in text)
        if hits > best_hits:
            best, best_hits = category, hits
    return best
