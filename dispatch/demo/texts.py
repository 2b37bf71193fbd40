"""What citizens say: report texts for every category, street names, citizens' names.

Templates follow the seeds' cases (光缆线电杆倒塌, 窨井盖开裂破损, 垃圾箱满溢, 车辆乱停乱放,
健身房不退会费, 儿媳不赡养, 飞线充电 ...). `{place}` takes a road or community name; the other
fields are filled from the random generator.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from dispatch.demo.names import person_name
from dispatch.domain.errors import InvalidValue

ADDRESS_STREETS: tuple[str, ...] = (
    "人民路", "解放路", "建设路", "龙华路", "珠江源大道", "西平路", "环城东路", "环城西路",
    "环城南路", "环城北路", "文化路", "学府路", "胜利路", "东风路", "南宁路", "金龙路",
    "花园路", "振兴街", "兴隆街", "玉屏路", "朝阳路", "翠湖路", "幸福路", "新民街",
    "北关街", "沿河路", "龙泉路", "白石路", "光华路", "工人街", "文昌巷", "凤凰路",
)  # fmt: skip

_ESTATES = ("锦华苑", "阳光花园", "金龙小区", "翠湖雅居", "幸福家园", "龙泉新村", "玉屏花苑",
            "东湖丽景", "职工宿舍", "云岭国际")  # fmt: skip
_HOURS = ("十", "十一", "十二")

TEMPLATES: dict[str, tuple[str, ...]] = {
    "property": (
        "{place}{estate}小区的电梯又坏了，已经停了{days}天，楼上老人上下楼很困难，物业一直说在等配件。",
        "{place}{estate}小区物业不作为，楼道灯坏了几个月没人修，晚上出入很不安全。",
        "{place}{estate}小区物业擅自上涨停车费，每月从{fee}元涨到{fee2}元，没有征求业主意见。",
        "{place}{estate}小区二次供水水箱长期不清洗，水里有杂质，物业推说不归他们管。",
        "{place}{estate}小区地下车库渗水严重，向物业反映多次一直没有处理。",
    ),
    "safety": (
        "{place}路边光缆线电杆倒塌，光缆线横在公路中间，交通不便，存在安全隐患。",
        "{place}附近一块广告牌松动，刮风时摇摇晃晃，下面就是人行道，随时可能砸到人。",
        "{place}一段挡土墙出现裂缝，下雨后不断有石块往下掉，担心发生坍塌。",
        "{place}有个工地的围挡倒了一半，里面的深坑没有任何防护，小孩经常在附近玩，很危险。",
        "{place}一棵大树被风吹断，树干压在电线上，存在安全隐患。",
    ),
    "neighbour": (
        "{place}楼上住户家里漏水，把我家天花板泡坏了，找他协商赔偿一直不理，请社区帮忙调解。",
        "{place}邻居在公共楼道堆放杂物，说了多次不听，双方已经吵了好几回，希望有人出面调解。",
        "{place}隔壁邻居家的狗天天叫，还在楼道里随地大小便，沟通无果，请求调解矛盾。",
        "{place}两户人家因为宅基地边界的围墙发生纠纷，差点动手，请村里和司法所来调解。",
        "{place}邻居把空调外机装在我家窗户边，热风直吹进屋，协商不成，产生纠纷。",
    ),
    "land": (
        "{place}的征地补偿款到现在还没有发放到位，村民多次询问都没有明确答复。",
        "{place}拆迁安置房交房时间一拖再拖，已经超过约定{months}个月，住户意见很大。",
        "我家在{place}的承包地被占用修路，一直没人来谈补偿，希望相关部门给个说法。",
        "{place}片区拆迁补偿标准不统一，同样的房子补偿差别很大，群众有意见。",
    ),
    "pollution": (
        "{place}附近有小厂晚上偷偷排污，河沟里的污水发黑发臭。",
        "{place}一家烧烤店油烟直排，整栋楼都是油烟味，窗户都不敢开，污染严重。",
        "{place}有人焚烧垃圾和塑料，冒出黑烟，气味刺鼻。",
        "{place}养殖场的粪水直接排到沟里，臭味很大，夏天苍蝇特别多。",
        "{place}附近的砂石料场粉尘污染很大，路边的房子和庄稼上都是一层灰。",
    ),
    "road": (
        "{place}路口的窨井盖开裂破损，车压过去哐哐响，行人也容易踩空。",
        "{place}有个井盖缺失，只插了一根树枝提醒，晚上看不见很危险。",
        "{place}一段路面塌陷出一个大坑，下雨积水看不出深浅，已经有电动车摔倒了。",
        "{place}的路灯不亮已经一个多星期了，晚上整条路黑漆漆的。",
        "{place}人行道护栏被车撞坏了，倒在路边{days}天了一直没人修。",
    ),
    "garbage": (
        "{place}的垃圾桶满溢，垃圾堆到地上，已经{days}天没人清运了，臭味很大。",
        "{place}垃圾收集点周边到处是散落的垃圾，野狗一翻满地都是，请尽快清运。",
        "{place}有人在空地上倾倒建筑垃圾，越堆越多，没人清理。",
        "{place}菜市场门口的垃圾箱满溢，污水流到人行道上。",
        "{place}村口的垃圾池好久没有清运，垃圾满溢出来堆到了路上。",
    ),
    "parking": (
        "{place}有车辆乱停乱放，把消防通道堵死了，打挪车电话也不接。",
        "{place}人行道上停满了汽车和电动车，行人只能走到机动车道上，乱停现象严重。",
        "{place}小区门口长期有人乱停车，早上上班高峰车都开不出去，路口堵得厉害。",
        "{place}学校门口接送孩子的车辆乱停乱放，放学时段严重拥堵。",
        "{place}路边有一辆无牌车停了{months}个多月，落满了灰，长期占道停车。",
    ),
    "cityscape": (
        "{place}有流动摊点占道经营，晚上摆到马路中间，影响通行。",
        "{place}墙上、电线杆上乱贴小广告，刚清理完又贴满了。",
        "{place}一家商铺的门头广告牌破损，字掉了一半，很影响市容。",
        "{place}有人在绿化带里种菜、晾衣服，破坏绿化，影响市容市貌。",
        "{place}沿街店铺把货物摆到人行道上出店经营，摊点越摆越多。",
    ),
    "building": (
        "{place}有住户在楼顶私自加盖房子，已经搭起了钢架，属于违章建筑。",
        "{place}一楼住户把院子围起来搭建彩钢棚，占用公共绿地。",
        "{place}有人在耕地上违章搭建房屋，这几天正在连夜抢建。",
        "{place}沿街商铺私自拆墙扩建、加盖二层，楼上住户很担心房屋安全。",
    ),
    "firerisk": (
        "{place}一栋楼的楼道里堆满杂物，还有电动车在楼道充电，消防通道被堵。",
        "{place}有住户从{floor}楼甩电线下来给电动自行车充电，电线在风里晃，容易短路起火。",
        "{place}一家小餐馆后厨液化气罐摆放混乱，灭火器都过期了，消防隐患很大。",
        "{place}一处出租屋住了很多人，电线私拉乱接，没有任何消防设施。",
        "{place}附近山上有人烧荒，火越烧越大，请尽快派人来看看。",
    ),
    "wages": (
        "我在{place}一处工地干活，老板拖欠工资{months}个月了，{count}个工友都没拿到钱。",
        "{place}一家餐馆关门了，老板联系不上，欠我们{count}个员工的工资没发。",
        "{place}一家装修公司欠薪，我们去要工资被推来推去，请劳动监察帮忙。",
        "在{place}的项目上打工，包工头说年底统一结算，现在人找不到了，工资被拖欠。",
    ),
    "family": (
        "我今年{age}岁了，住在{place}，儿子前段时间去世了，儿媳妇不养我，一个人生活很难。",
        "{place}有户人家经常吵架打人，邻居听到女方哭喊，怀疑存在家暴。",
        "{place}一位老人反映子女长期不赡养，不给生活费，希望有人帮忙协调家庭矛盾。",
        "我和丈夫住在{place}，因为离婚财产分割闹得很僵，想请妇联帮忙调解婚姻纠纷。",
    ),
    "noise": (
        "{place}附近的工地晚上{hour}点以后还在施工，噪音扰民，影响休息。",
        "{place}广场舞的音响声音太大，每天晚上要跳到{hour}点多，吵得孩子没法写作业。",
        "{place}一家KTV深夜噪音很大，周边居民无法入睡。",
        "{place}一家商铺门口用大喇叭循环播放促销广告，从早吵到晚。",
        "{place}楼下的烧烤摊半夜还在划拳喧哗，噪音扰民。",
    ),
    "utilities": (
        "{place}从早上开始停水，事先没有任何通知，家里老人孩子用水很不方便。",
        "{place}突然停电{hours}个小时了还没来电，冰箱里的东西都要坏了。",
        "{place}路边水管爆裂，水一直往外冒，漏水很严重。",
        "{place}{estate}小区水压太低，楼上几层白天基本没水。",
        "{place}的电线老化，经常跳闸停电，希望供电所来检查。",
    ),
    "market": (
        "{place}的健身房经营不善关门停业了，负责人不退剩余会费，涉及的会员很多。",
        "{place}一家超市在卖过期食品，我买的牛奶已经过期{days}天了。",
        "{place}农贸市场有商贩缺斤少两，电子秤被动过手脚。",
        "{place}一家药店价格标示不清，结账时比标价贵了很多。",
        "{place}一家小作坊生产食品，卫生条件很差，也没有任何证照。",
    ),
    "welfare": (
        "{place}有一位孤寡老人，生活困难，住的房子漏雨，希望能给予救助。",
        "{place}有一户人家因病致贫，孩子上学都成问题，想咨询怎么申请低保。",
        "{place}路边有一位流浪人员，天冷了衣服单薄，请救助站来看看。",
        "{place}一位残疾人反映困难残疾人生活补贴一直没有领到。",
        "{place}一位独居老人好几天没出门了，邻居担心出事，请社区上门看看，需要养老服务。",
    ),
    "publicorder": (
        "{place}最近连续发生电动车电瓶被盗，希望派出所加强巡逻。",
        "{place}一家烧烤店门口有人酒后打架，现场很混乱。",
        "{place}有人冒充工作人员上门推销保健品，疑似诈骗老年人。",
        "{place}晚上经常有可疑人员在楼道里转悠，还有人家被偷，居民很担心治安。",
        "{place}附近有人聚众赌博，吵闹到深夜。",
    ),
    "traffic": (
        "{place}路口的红绿灯坏了，车辆乱作一团，很容易出交通事故。",
        "{place}的信号灯时间设置不合理，左转车辆排了很长的队。",
        "{place}公交站牌被车撞倒了，乘客不知道在哪里等公交。",
        "{place}一段路没有斑马线，学生过马路很危险，希望施划人行横道。",
        "{place}发生一起交通事故，两车相撞停在路中间，后面的车过不去。",
    ),
    "publicservice": (
        "在{place}的办事窗口排了很久的队，工作人员说材料不全，事先却没有一次性告知。",
        "{place}便民服务中心的自助办证机坏了好几天，没人维修，影响群众办事。",
        "{place}附近的公共厕所长期锁门，群众如厕困难。",
        "想咨询一下住在{place}怎么办理居住证，需要带哪些证件和材料。",
        "{place}的社区卫生服务站周末不开门，老人看病不方便，希望改进服务。",
    ),
    "other": (
        "{place}有几只流浪狗经常追着路人咬，希望有关部门处理。",
        "{place}公园里的健身器材损坏了，老人锻炼不方便。",
        "建议在{place}增设一个公交站点，附近居民出行太远。",
        "{place}有商户在路边宰杀活禽，血水流了一地。",
        "{place}附近树上的马蜂窝越来越大，担心蜇伤路过的孩子。",
    ),
}


def report_text(category_code: str, place: str, rng: random.Random) -> str:
    """A citizen's report of the category at `place`, e.g. report_text("garbage", "解放路", rng)."""
    templates = TEMPLATES.get(category_code)
    if templates is None:
        raise InvalidValue(
            f"no report texts for category {category_code!r}; "
            f"categories are {', '.join(sorted(TEMPLATES))}",
            field="category",
        )
    fee = rng.choice((100, 120, 150, 200))
    return rng.choice(templates).format(
        place=place,
        estate=rng.choice(_ESTATES),
        days=rng.randint(2, 6),
        months=rng.randint(2, 8),
        hours=rng.randint(3, 9),
        hour=rng.choice(_HOURS),
        count=rng.randint(5, 40),
        age=rng.randint(68, 88),
        floor=rng.randint(3, 7),
        fee=fee,
        fee2=fee + rng.choice((50, 80, 100)),
    )


class CitizenName(NamedTuple):
    """A name as Open311 asks for it; str() gives it the Chinese way round, surname first."""

    first: str  # given name, 名
    last: str  # surname, 姓

    def __str__(self) -> str:
        return self.last + self.first


def random_citizen_name(rng: random.Random) -> CitizenName:
    """A realistic citizen's name: `first, last = random_citizen_name(rng)`; str() is 邵建华."""
    full = person_name(rng)
    return CitizenName(first=full[1:], last=full[0])
