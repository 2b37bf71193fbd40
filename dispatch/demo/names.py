"""Chinese names for the demo county: places, people, phone numbers."""

from __future__ import annotations

import random

CITY_NAME = "珠源市"
COUNTY_NAME = "云岭县"

# (name, kind) of the six township-level units: four street offices around the county seat and
# two rural townships, with the communities (社区) or villages (村) each may use, in order.
STREETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("金龙街道", ("金龙社区", "云龙社区", "文昌社区", "光华社区", "朝阳社区", "新村社区")),
    ("西平街道", ("西平社区", "东湖社区", "龙泉社区", "和平社区", "松韵社区", "青山社区")),
    ("龙华街道", ("龙华社区", "建设社区", "工人街社区", "花园社区", "南苑社区", "学府社区")),
    ("玉屏街道", ("玉屏社区", "白石社区", "幸福社区", "兴隆社区", "翠湖社区", "锦绣社区")),
)
TOWNSHIPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("菱角乡", ("棚云村", "菱角村", "稻堆村", "花箐村", "大河村", "小坡村", "马场村")),
    ("松林镇", ("松林村", "海家村", "石头村", "新德村", "龙潭村", "黑冲村", "沙坝村")),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
)
# The most common surnames again, so they come up about as often as they do in life.
_COMMON = "王李张刘陈杨黄赵吴周"
_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林海峰建国志文荣德云"
_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英兰红梅琳燕萍洁琴雪倩婷颖慧巧美娇莉芬秋菊月凤琼蓉"
_PHONE_PREFIXES = ("139", "138", "137", "136", "135", "150", "151", "152", "158", "159", "187",
                   "188", "182", "183", "130", "131", "132", "155", "156", "186", "133", "153",
                   "180", "181", "189", "177")  # fmt: skip


def person_name(rng: random.Random) -> str:
    """A realistic full name: a surname and one or two given characters."""
    surname = rng.choice(_COMMON) if rng.random() < 0.35 else rng.choice(SURNAMES)
    pool = _MALE if rng.random() < 0.5 else _FEMALE
    given = rng.choice(pool) if rng.random() < 0.3 else rng.choice(pool) + rng.choice(pool)
    return surname + given


def phone_number(rng: random.Random) -> str:
    """An 11-digit mobile number such as 139xxxxxxxx."""
    return rng.choice(_PHONE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
