"""The demo city's phrase tables: case descriptions, what callers say, escalation cues, background calls,
staff notes (the simulator's vocabulary; templates with {fields})."""

from __future__ import annotations

from contracts.vocabulary import EventType

DEPARTMENTS = ("派出所", "人民法院", "劳动监察大队", "信访局", "住建局", "司法所")
GATHER_PLACES = ("区政府门口", "镇政府", "公司门口", "项目工地", "市信访局", "售楼部")


ISSUES: dict[str, tuple[str, ...]] = {
    "邻里纠纷": (
        "房屋漏水",
        "装修噪音",
        "宅基地边界",
        "排水沟堵塞",
        "楼道堆放杂物",
        "树木遮挡采光",
        "养狗扰民",
    ),
    "婚姻家庭": ("家庭琐事", "子女抚养", "赡养老人", "财产分割", "彩礼返还", "家庭暴力"),
    "劳资纠纷": ("被拖欠工资", "工伤未获赔偿", "被无故辞退", "未签劳动合同", "加班费未支付"),
    "土地山林": ("山林界址", "承包地边界", "宅基地使用", "灌溉水源", "林木砍伐"),
    "征地拆迁": ("补偿标准", "房屋面积认定", "安置房分配", "青苗补偿"),
    "物业纠纷": ("服务不到位", "乱收费", "电梯长期故障", "车位管理混乱", "公共收益不公开"),
    "消费纠纷": ("商品质量问题", "预付卡无法退费", "虚假宣传", "售后不履行"),
    "医疗纠纷": ("术后出现并发症", "误诊", "用药不当", "住院期间摔伤"),
    "交通事故": ("追尾", "剐蹭", "行人受伤", "电动车相撞"),
    "其他": ("借贷", "合同", "合伙经营", "房屋租赁"),
}
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "邻里纠纷": (
        "{reporter}反映与邻居{other}因{issue}发生矛盾，双方多次争吵，请求调解。",
        "{entity}住户{reporter}反映楼上邻居{issue}问题已持续{months}个月，协商未果。",
        "申请人与被申请人{other}系邻居，因{issue}问题产生纠纷，申请人要求赔偿损失{amount}。",
    ),
    "婚姻家庭": (
        "{reporter}反映与配偶因{issue}长期争吵，要求调解。",
        "申请人与{other}婚后感情不和，现就{issue}问题发生争议，涉及金额{amount}。",
        "{reporter}称兄弟姐妹在{issue}问题上互相推诿，家庭矛盾激化。",
    ),
    "劳资纠纷": (
        "{n}名工人反映{entity}拖欠工资共计{amount}，多次讨要未果。",
        "{reporter}反映在{entity}工作期间{issue}，要求公司支付{amount}。",
        "{entity}承建的项目完工后包工头失联，{n}名农民工工资{amount}无着落。",
        "{reporter}等{n}人反映{entity}{issue}，已向劳动监察部门反映。",
    ),
    "土地山林": (
        "{entity}村民{reporter}与{other}因{issue}发生争执，要求确权。",
        "{entity}两个村民小组因{issue}问题产生纠纷，涉及约{n}户村民。",
        "{reporter}反映其承包的土地被{other}占用，要求返还并赔偿{amount}。",
    ),
    "征地拆迁": (
        "{entity}涉及的{n}户村民对{issue}有异议，要求提高补偿，涉及金额{amount}。",
        "{reporter}反映{entity}拆迁时{issue}有误，少补偿约{amount}。",
        "{entity}征地款{amount}迟迟未发放到位，{n}户村民意见较大。",
    ),
    "物业纠纷": (
        "{entity}业主{n}户反映物业公司{issue}，要求退还物业费{amount}。",
        "物业公司申请调解，{entity}业主{reporter}拖欠物业费{amount}。",
        "{entity}业主与物业因{issue}发生冲突，{n}户业主联名投诉。",
    ),
    "消费纠纷": (
        "{reporter}在{entity}消费后发现{issue}，要求退款{amount}。",
        "{n}名消费者反映{entity}突然关门，预付款共约{amount}无法退还。",
        "{reporter}与{entity}就{issue}发生争议，协商未果。",
    ),
    "医疗纠纷": (
        "{reporter}反映其家属在{entity}治疗期间{issue}，要求赔偿{amount}。",
        "患者家属与{entity}就{issue}责任认定存在分歧，家属多次到院交涉。",
        "{entity}医疗纠纷，患方要求赔偿{amount}，院方认为无过错。",
    ),
    "交通事故": (
        "{reporter}驾驶电动车在{entity}与{other}驾驶的小轿车发生碰撞，双方就赔偿{amount}协商未果。",
        "{entity}发生交通事故，{reporter}受伤住院，要求对方赔偿医疗费等{amount}。",
        "{reporter}与{other}因{issue}事故责任划分产生争议。",
    ),
    "其他": (
        "{reporter}反映与{other}之间存在{issue}纠纷，请求调解。",
        "{reporter}称{other}借款{amount}到期不还，多次催讨未果。",
        "{reporter}与{other}因{issue}产生矛盾，涉及{amount}。",
    ),
}
TENSION_HINTS = ("当事人情绪激动。", "当事人扬言要采取过激行为。", "双方曾发生推搡。", "当事人已多次上访。")
PII_SNIPPETS = ("联系电话{phone}。", "联系方式：{phone}", "身份证号{id_number}。")

CALL_GENERIC = (
    "关于{entity}的事情之前已经反映过，到现在还没有结果。",
    "我上次反映的{issue}问题一直没人处理，请尽快安排。",
    "调解员说会处理，但是已经过去{days}天了，没有任何进展。",
    "{entity}那边还是没有解决，我们要求给个说法。",
    "对方根本不理会，{issue}的问题还在。",
    "想问一下我们那个{issue}的事情现在进展到哪一步了。",
)
CALL_BY_CATEGORY: dict[str, str] = {
    "邻里纠纷": "邻居又开始{issue}了，实在受不了。",
    "婚姻家庭": "家里又吵起来了，{issue}的事情谈不拢。",
    "劳资纠纷": "{entity}还欠我们工资{amount}，家里等着用钱。",
    "土地山林": "{entity}那块地的事情对方又来闹了。",
    "征地拆迁": "{entity}的补偿款到现在都没有发，村里很多人有意见。",
    "物业纠纷": "{entity}物业还是老样子，业主都很不满。",
    "消费纠纷": "{entity}还是不给退钱，一共{amount}。",
    "医疗纠纷": "{entity}到现在都不给个说法，人都这样了。",
    "交通事故": "对方一直拖着不赔，医药费{amount}都是我们自己垫的。",
    "其他": "{issue}的钱对方还是不还，一共{amount}。",
}
CUES: dict[str, tuple[str, ...]] = {
    "threat": (
        "再不解决就别怪我不客气了。",
        "要出人命了！",
        "我们要找人去他家。",
        "再这样下去我就自己动手了。",
    ),
    "crowd": ("大家准备一起去政府门口。", "工友们说好了明天一起去讨说法。", "几十户人准备集体去上访。"),
    "court": ("我要去法院起诉。", "已经找好律师了，准备打官司。"),
    "selfharm": ("我真的不想活了。", "再不给钱我就从楼上跳下去。"),
}
CALL_PII = ("我的电话是{phone}。", "回电{phone}。", "我的身份证号是{id_number}。")

BACKGROUND: tuple[tuple[str, str], ...] = (
    ("城市管理", "{estate}附近工地晚上施工，噪音太大。"),
    ("城市管理", "{road}的路灯坏了好几天了。"),
    ("城市管理", "{estate}门口占道经营，车都过不去。"),
    ("城市管理", "楼上邻居半夜装修，太吵了。"),
    ("公用事业", "{estate}停水两天了，什么时候恢复？"),
    ("公用事业", "{estate}最近频繁停电。"),
    ("咨询", "咨询一下医保异地报销怎么办理。"),
    ("咨询", "想问一下社保转移需要什么材料。"),
    ("咨询", "咨询办理居住证需要哪些材料。"),
    ("环境保护", "{company}排放的废气有刺鼻气味。"),
    ("交通运输", "{road}附近公交车班次太少。"),
    ("市场监管", "{store}卖的东西过期了。"),
    ("安全隐患", "{estate}的井盖丢了，要出人命了！"),
    ("劳动保障", "咨询一下公司不给交社保怎么办。"),
)

NOTES: dict[EventType, tuple[str, ...]] = {
    EventType.REGISTERED: ("受理登记。", "当事人来访，登记受理。", "登记受理，告知调解程序。"),
    EventType.ASSIGNED: ("已分派至{town}人民调解委员会。", "指派调解员{mediator}跟进。"),
    EventType.VISIT: (
        "调解员{mediator}上门走访，当事人{mood}。",
        "走访双方当事人了解情况，{mood}。",
        "电话回访当事人{phone}，{mood}。",
    ),
    EventType.MEDIATION_SESSION: (
        "组织双方进行调解。",
        "召开调解会，双方均到场。",
        "邀请村（居）委会干部参与调解。",
    ),
    EventType.MEDIATION_FAILED: (
        "双方分歧较大，调解未成功。",
        "被申请人拒不到场，调解终止。",
        "对赔偿金额未能达成一致。",
    ),
    EventType.MEDIATED: ("达成调解协议，约定分期履行。", "双方达成一致，签订调解协议书。", "当场履行完毕。"),
    EventType.AGREEMENT_BREACHED: ("对方未按协议履行，当事人再次来访。", "约定款项逾期未付。"),
    EventType.REFERRED: ("移交{dept}处理。", "引导当事人通过{dept}解决。"),
    EventType.REOPENED: ("当事人再次反映，重新受理。", "矛盾反复，重新立案跟进。"),
    EventType.CLOSED: ("结案。", "已履行完毕，结案归档。", "当事人撤回申请，结案。"),
    EventType.VIOLENCE: (
        "双方发生肢体冲突，派出所已出警。",
        "一方持械伤人，已移交公安机关。",
        "发生打架事件，有人受伤。",
    ),
    EventType.GROUP_INCIDENT: ("约{crowd}人聚集在{place}讨要说法。", "{crowd}余名群众到{place}聚集。"),
    EventType.LITIGATION: ("当事人已向人民法院提起诉讼。", "法院已立案受理。"),
}
MOOD_HIGH = ("情绪激动", "态度强硬", "扬言要讨说法")
MOOD_LOW = ("情绪平稳", "表示愿意调解", "态度缓和")
