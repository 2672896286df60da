"""The model card's wording in Chinese: one phrase per key, the same keys as the other language."""

from __future__ import annotations

TEXT: dict[str, str] = {
    "title": "# 模型说明：{model_name}（{version}，{as_of}）",
    "not_registered": "尚未注册",
    "meta": (
        "- 版本：{version}\n"
        "- 训练日期：{as_of}（只使用该日期之前已知的数据）\n"
        "- 模型：{estimator}，校准方法：{calibration}\n"
        "- 预测内容：在办纠纷在{horizon}天内是否升级（{events}）"
    ),
    "list_sep": "、",
    "h_about": "## 涉及谁、用来做什么",
    "about": (
        "本说明介绍每日纠纷风险清单背后的模型，供调解员优先排查时参考。它写给所有相关的人，"
        "也包括纠纷出现在清单上的当事人。\n\n"
        "- 评分的对象是纠纷，而不是人。每件在办纠纷都有一个分数：它在{horizon}天内升级"
        "（{events}）的校准概率。\n"
        "- 分数帮助调解员决定先走访哪些纠纷。它不是对任何人的评判，"
        "也绝不能作为处罚、监控或拒绝办事的理由。\n"
        "- 由调解员决定怎么做，其决定随案记录在案。\n"
        "- 如果您的纠纷记录有误（纠纷类型、某条办理记录、某次来电），"
        "请告诉您的调解员或当地人民调解委员会。"
        "记录会在源系统中更正，次日的清单即使用更正后的数据。"
    ),
    "h_not_for": "## 不得用于",
    "not_for": (
        "- 评判、排名或给个人贴标签；\n"
        "- 治安执法或监视他人；\n"
        "- 预测犯罪或预测谁会违法犯罪；\n"
        "- 调解以外的任何用途，例如社会救助、审批许可、就业、信用、入学或住房。\n\n"
        "模型既不是为这些用途设计的，也没有针对这些用途做过检验。"
    ),
    "h_data": "## 数据",
    "data": (
        "- 训练数据为{first}至{last}共{n_snapshots}个日期的在办纠纷快照，"
        "合计{n_rows}条案件快照，其中{base_rate}在{horizon}天内升级。\n"
        "- 只使用{as_of}之前已知的信息，包括纠纷后来是否升级。\n"
        "- 个人信息在导入时即做假名化处理：姓名、电话号码和身份证号转为加密编码，"
        "文字记录中的号码和人名被遮蔽。模型看不到这些信息。\n"
        "- 民族、宗教等受保护的个人特征从不作为模型特征。\n"
        "- {audited}"
    ),
    "used_and_audited": "模型的特征中包括{used}；下文的公平性审查检查了{audited}。",
    "audited_only": "下文的公平性审查检查了{audited}。",
    "and": "和",
    "h_checked": "## 如何检验",
    "checked": (
        "采用滚动起点的时间验证，共{n_folds}折：每一次，模型只用较早的数据训练，"
        "再在训练时从未见过的较晚日期上检验（{dates}）。表中数字为这些日期上的平均值 ± 标准差。"
        "对照基准是一条调解员可以手工执行的简单规则：近期热线来电最多的纠纷排在最前。"
    ),
    "col_measure": "指标",
    "col_model": "模型",
    "col_rule": "规则",
    "m_precision_at_k": "清单前{top}的精确率（列入的纠纷中实际升级的比例）",
    "m_recall_at_k": "清单前{top}的召回率（全部升级纠纷中被列入的比例）",
    "m_precision_at_list_k": "清单前{k}行的精确率",
    "m_recall_at_list_k": "清单前{k}行的召回率",
    "m_roc_auc": "ROC AUC（排序能力；0.5相当于随机）",
    "m_average_precision": "平均精确率",
    "m_brier": "Brier分数（越低越好）",
    "m_ece": "期望校准误差ECE（越低越好）",
    "lift": "在清单前{top}，模型的精确率是规则的{lift}倍。",
    "grid_intro": "比较过的候选模型（清单前{top}的精确率，各折平均值 ± 标准差），选用的模型已标出：",
    "col_candidate": "候选模型",
    "col_precision_top": "前{top}精确率",
    "col_chosen": "选用",
    "chosen_mark": "✓ 选用",
    "h_meaning": "## 分数的含义",
    "meaning": (
        "分数用{calibration}做过校准，可以当作概率理解：分数为{example}，"
        "意思是过去类似的纠纷中大约每{one_in}件有1件在{horizon}天内升级。"
        "在检验日期上的校准误差（ECE）为{ece}。分数低并不代表保证不升级：低分纠纷中仍有一些会升级。\n\n"
        "- 高风险：分数不低于{high}\n"
        "- 中风险：分数不低于{medium}、低于{high}\n"
        "- 低风险：分数低于{medium}"
    ),
    "h_groups": "## 分组表现",
    "groups": (
        "在检验数据的不同部分上计算同样的指标。组越小，数字越不稳定；"
        "{missing}表示无法计算（例如该组没有升级的纠纷）。"
    ),
    "col_kind": "分组方式",
    "col_subset": "组别",
    "col_n": "纠纷数",
    "col_positives": "升级数",
    "col_precision": "精确率（前{top}）",
    "col_recall": "召回率（前{top}）",
    "col_auc": "ROC AUC",
    "kind_new_vs_ongoing": "新案与在办",
    "kind_district": "区县",
    "kind_category": "纠纷类型",
    "subset_new": "新案",
    "subset_ongoing": "在办",
    "no_rows": "未提供数据。",
    "h_fairness": "## 公平性审查",
    "fairness": (
        "把每个群体与全部纠纷的总体水平比较：被列入清单前{top}的比例、召回率（该群体升级纠纷中被列入的比例）、"
        "误报率（该群体未升级纠纷中被列入的比例）和校准情况（预测升级率 ÷ 实际升级率）。"
        "比值为1.00表示与总体相同；方括号内为不确定性区间。“需关注”列出该群体与总体存在显著差异的指标。\n\n"
        "列入比例不同可能反映真实风险不同：升级更常见的群体被列入得更多，是预期之中的。"
        "召回率、误报率和校准才是检验是否同等对待的指标。"
    ),
    "col_attribute": "属性",
    "col_group": "群体",
    "col_share": "列入比例（比值）",
    "col_fair_recall": "召回率（比值 [区间]）",
    "col_fpr": "误报率（比值 [区间]）",
    "col_pred_obs": "预测 / 实际",
    "col_calibration": "校准比 [区间]",
    "col_status": "结论",
    "status_ok": "无显著差异",
    "status_flagged": "需关注：{metrics}",
    "status_insufficient": "数据不足，未作评估",
    "metric_share_listed": "列入比例",
    "metric_recall": "召回率",
    "metric_fpr": "误报率",
    "metric_calibration": "校准",
    "insufficient": (
        "数据不足：{groups}。这些群体的纠纷或升级案例太少，无法可靠比较，因此没有评估。"
        "本次审查不能说明模型对它们是否公平，它们仍列为需要持续观察的群体。"
    ),
    "group_label": "{group}",
    "group_count": "{name}（{n}件纠纷，{positives}件升级）",
    "tally": "共审查{n_groups}个群体：{ok}个无显著差异，{flagged}个需关注，{insufficient}个数据不足。",
    "verdict": "审查结论（原文）：{verdict}",
    "h_drivers": "## 影响分数的因素",
    "drivers": (
        "下表是模型最依赖的特征：在检验案件上，它们对纠纷分数（对数几率）的平均影响幅度（取绝对值）。"
        "它们说明模型用了什么，而不说明什么导致升级。"
    ),
    "col_feature": "特征",
    "col_described": "在清单理由中的说法",
    "col_detail": "含义（特征词典原文）",
    "col_importance": "重要性",
    "features_used": "模型共使用{n}个特征，均在特征词典中有说明。",
    "h_limits": "## 局限",
    "limits": (
        "- 历史数据反映的是过去的工作方式和反映习惯：群众更常拨打热线的区县看起来风险更高，"
        "不论其真实风险如何。\n"
        "- 没有记录在案的升级，以及从未进入系统的纠纷，模型都看不到。\n"
        "- 文字信号靠词表识别，会漏掉方言、反话和新的说法。\n"
        "- 模型的好坏取决于记录的数据：补录、漏录或错录都会削弱它。\n"
        "- 检验用的是同一数据来源的较晚日期，结果未必适用于其他城市或工作方式改变之后。\n"
        "- 我们持续监测数据漂移：清单的输入和结果受到监测，模型会重新训练并随本说明重新检验。"
    ),
    "h_contact": "## 联系与反馈",
    "contact": (
        "咨询、更正和投诉，请找您的调解员、当地人民调解委员会或司法所；每一项请求都会登记并跟进。"
        "调解员如认为某个分数不对，请在案件中记下理由：重新训练模型前会逐条查看。"
    ),
}

EVENT_NAMES: dict[str, str] = {
    "violence": "民转刑等暴力事件",
    "group_incident": "群体性事件",
    "litigation": "诉讼",
    "lawsuit": "起诉",
    "petition": "信访",
}

CALIBRATION_NAMES: dict[str, str] = {
    "sigmoid": "Sigmoid（Platt）法",
    "isotonic": "保序回归法",
}

ATTRIBUTE_NAMES: dict[str, str] = {
    "district": "区县",
    "category": "纠纷类型",
    "new_vs_ongoing": "新案与在办",
}
