"""The kinds of group grievance the demo city has: unpaid wages, land compensation, an estate's developer,
and (`grievance_more_kinds`) a college's internships, a loan platform, road or metro works."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """A kind of group grievance: what is named, by whom, and what the calls and cases say."""

    category: str  # dispute category of its cases
    entity: str  # kind of place pool the named thing comes from
    district_kind: str  # where it happens (urban | industrial | rural)
    hotline_labels: tuple[str, ...]
    calls: tuple[str, ...]  # what callers say ({entity}, {amount}, {months})
    crowd: tuple[str, ...]  # what they add as the day of the incident nears
    descriptions: tuple[str, ...]  # case descriptions ({entity}, {n}, {amount}, {reporter}, {months})
    people: str  # who gathers (工人, 村民, 业主)
    place: str  # where they gather
    per_party: float  # money at stake per party (CNY)
    topics: tuple[str, ...] = ()  # what callers say naming no thing ({amount}, {months})
    names: tuple[str, ...] = ()  # suffixes of its thing's name when the city has no pool of such things
    spread: float = 0.0  # share of its calls made from other districts (a thing known across the city)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "劳资纠纷",
        "company",
        "industrial",
        ("欠薪", "劳动保障"),
        (
            "在{entity}干活的工人反映，老板已经{months}个月没发工资了。",
            "反映{entity}拖欠工资，我一个人就被欠了{amount}，找不到老板。",
            "关于{entity}欠薪的事，我们很多工友都没拿到钱，家里等着用钱。",
            "我是{entity}的工人，工资一直拖着不发，车间已经停工了。",
            "投诉{entity}拖欠农民工工资{amount}，包工头说公司没给钱。",
        ),
        (
            "工友们说好了明天一起去讨说法。",
            "几十个工人准备集体去区政府上访。",
            "再不发工资我们就去政府门口拉横幅。",
        ),
        (
            "{n}名工人反映{entity}拖欠工资共计{amount}，老板失联，多次讨要未果。",
            "{reporter}等{n}人反映在{entity}工作期间工资被拖欠{months}个月，涉及金额{amount}。",
            "{entity}停工后拖欠{n}名工人工资{amount}，工人情绪激动，要求尽快解决。",
        ),
        "工人",
        "公司门口",
        9_000.0,
        topics=(
            "老板拖欠工资{months}个月了，工友们都找不到人。",
            "厂里停工好几天了，工资一直没发，怎么办？",
            "我们一起干活的几十个人都没拿到工资，包工头也联系不上。",
            "反映拖欠农民工工资的问题，一共{amount}。",
        ),
    ),
    Scenario(
        "征地拆迁",
        "project",
        "rural",
        ("征地拆迁", "住房城乡建设"),
        (
            "反映{entity}的补偿款到现在都没有发，拖了{months}个月了。",
            "关于{entity}征地补偿的问题，我家被少补了{amount}。",
            "我是{entity}涉及的村民，安置房一直没有落实。",
            "投诉{entity}强行施工，补偿标准没谈好就开始挖地了。",
        ),
        (
            "村里很多人准备一起去镇政府讨说法。",
            "几十户村民说好了要去堵路。",
            "再不给说法我们就集体去市信访局。",
        ),
        (
            "{entity}涉及的{n}户村民反映补偿款{amount}迟迟未发放，多次协商未果。",
            "{reporter}等{n}户村民对{entity}的补偿标准有异议，涉及金额{amount}。",
        ),
        "村民",
        "项目工地",
        40_000.0,
        topics=(
            "村里征地的补偿款一直没发下来，拖了{months}个月了。",
            "我家的地被征了，补偿标准太低，只给了{amount}。",
            "挖掘机已经开进地里了，补偿还没谈好。",
            "拆迁安置房迟迟不落实，村民意见很大。",
        ),
    ),
    Scenario(
        "物业纠纷",
        "estate",
        "urban",
        ("物业管理", "住房城乡建设"),
        (
            "反映{entity}的电梯坏了{months}个月了，物业一直不修。",
            "关于{entity}物业乱收费的问题，每户多收了{amount}。",
            "我是{entity}的业主，开发商承诺的车位到现在没兑现。",
            "投诉{entity}停水停电，物业说是开发商欠费。",
        ),
        (
            "业主们准备一起去区政府门口拉横幅。",
            "几十户业主说好了明天集体去售楼部维权。",
            "再不解决我们就堵小区大门。",
        ),
        (
            "{entity}业主{n}户反映物业公司长期不作为，要求退还物业费{amount}。",
            "{reporter}等{n}户业主反映{entity}开发商未兑现承诺，涉及金额{amount}。",
        ),
        "业主",
        "售楼部",
        3_000.0,
        topics=(
            "电梯又坏了，老人上不了楼，物业不管。",
            "楼里停水两天了，物业说是开发商欠费。",
            "物业乱收费，每户多收了{amount}，业主都很不满意。",
            "开发商承诺的车位到现在没兑现，业主要求退钱。",
        ),
    ),
    # More kinds of things (config.grievance_more_kinds): names without an organisation or place suffix.
    Scenario(
        "劳资纠纷",
        "school",
        "urban",
        ("教育", "劳动保障"),
        (
            "我孩子是{entity}的学生，被学校安排到外地工厂实习，工资被扣了{amount}。",
            "反映{entity}组织的顶岗实习，每天上班十二个小时，不去就不给毕业证。",
            "关于{entity}实习的问题，学生在厂里上夜班，实习补贴{months}个月没发。",
            "投诉{entity}强制学生去电子厂实习，学生都不愿意。",
        ),
        (
            "家长们准备一起去学校讨说法。",
            "几十个家长说好了明天去教育局上访。",
            "再不解决我们就去学校门口拉横幅。",
        ),
        (
            "{n}名学生家长反映{entity}组织的顶岗实习拖欠实习补贴共计{amount}，要求学校解决。",
            "{reporter}等{n}人反映{entity}强制安排学生实习，实习补贴{months}个月未发放。",
        ),
        "家长",
        "学校门口",
        4_000.0,
        topics=(
            "学校安排孩子去厂里顶岗实习，每天上十二个小时班。",
            "实习工资被学校扣了一大半，孩子一个月只拿到几百块。",
            "不去实习就不给毕业证，这合理吗？",
            "学生实习被安排上夜班，还不给加班费。",
        ),
        names=("职业技术学院",),
    ),
    Scenario(
        "其他",
        "platform",
        "urban",
        ("金融", "市场监管"),
        (
            "我在{entity}上投了{amount}，现在提不出来了。",
            "反映{entity}无法提现的问题，客服电话一直打不通。",
            "关于{entity}爆雷的事，我们很多人的本金都取不出来。",
            "投诉{entity}，说好的{months}个月到期还本，现在人找不到了。",
        ),
        (
            "投资人准备一起去市公安局报案。",
            "几十个投资人说好了明天去市政府门口。",
            "再不还钱我们就集体上访。",
        ),
        (
            "{n}名投资人反映{entity}无法提现，涉及金额{amount}，要求追回本金。",
            "{reporter}等{n}人反映在{entity}投资的本金{amount}到期未兑付。",
        ),
        "投资人",
        "市政府门口",
        50_000.0,
        topics=(
            "在网上投的钱提不出来了，客服也联系不上。",
            "理财平台爆雷了，我投了{amount}。",
            "借贷平台关停了，本金一直不退。",
            "网贷突然无法提现，很多人的钱都取不出来。",
        ),
        names=("网贷平台", "金融APP"),
        spread=0.25,
    ),
    Scenario(
        "其他",
        "works",
        "urban",
        ("城市管理", "住房城乡建设"),
        (
            "{entity}晚上一直施工，噪音太大，吵得睡不着。",
            "反映{entity}施工把我家的墙震裂了，要求赔偿{amount}。",
            "关于{entity}的扬尘问题，整条街都是灰。",
            "投诉{entity}夜间施工扰民，已经持续{months}个月了。",
        ),
        (
            "居民们准备一起去项目部讨说法。",
            "几十户居民说好了明天去区政府反映。",
            "再不停工我们就去堵工地大门。",
        ),
        (
            "{n}户居民反映{entity}施工导致房屋开裂，要求赔偿{amount}。",
            "{reporter}等{n}户居民反映{entity}夜间施工扰民{months}个月，多次协商未果。",
        ),
        "居民",
        "项目部",
        8_000.0,
        topics=(
            "晚上施工噪音太大，吵得睡不着。",
            "附近修路灰尘太大，窗户都不敢开。",
            "修地铁把我家墙震裂了，没人来管。",
            "工地上有股刺鼻的气味，居民都很难受。",
        ),
        names=("路改造工程", "大道拓宽工程", "地铁站项目"),
    ),
)
PLAIN_SCENARIOS = 3  # the kinds of the simulator before issue 17 (config.grievance_more_kinds off)
