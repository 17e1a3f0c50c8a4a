"""Chinese UI strings, kept together (labels of fields, measures, statuses, layouts)."""
import re
from functools import partial

from analytics.parse import MEASURES

APP_TITLE = "目标督查分析"
FIELD_LABELS = {
    "year": "年份", "period": "期间", "unit": "单位", "unit_id": "单位编码", "indicator": "指标",
    "indicator_id": "指标编码", "measure": "口径", "value": "数值", "unit_of_measure": "计量单位",
    "target": "全年目标", "approx": "约数", "upload_id": "上传批次", "file_name": "来源文件",
    "uploaded_by": "上传人", "uploaded_at": "上传时间", "source_row": "文件行号", "revisions": "修订次数",
    "layout": "格式", "rows_read": "读取行数", "rows_stored": "入库行数", "rows_rejected": "拒绝行数",
    "status": "状态", "message": "说明", "row": "行", "column": "列", "reason": "原因", "severity": "级别",
    "file": "文件",
}
MEASURE_LABELS = MEASURES
UPLOAD_STATUS = {"stored": "已入库", "partial": "部分入库", "refused": "已拒绝（未存储任何数据）",
                 "duplicate": "重复文件（已入库过，未重复存储）", "withdrawn": "已撤回"}
SEVERITY = {"error": "拒绝", "warning": "警告（已入库）", "info": "提示"}
USER_LABELS = {"system": "系统（演示数据）"}
COLUMN_ROLES = {"indicator": "指标名称列", "unit": "单位名称列", "uom": "计量单位列", "year": "年份列", "period": "期间列",
                "measure": "口径列", "value": "数值", "target": "目标值", "remark": "备注（读取其中的增速目标）",
                "ignore": "忽略"}
LAYOUTS = {"long": "长表（单位×指标×期间）", "indicator_rows": "指标行表（全年目标/累计/同比）",
           "month_columns": "月份列表（1-2月、1-3月…）", "unit_rows": "县区对比表（按指标分组）",
           "project_ledger": "重点项目台账", "units": "单位库", "indicators": "指标库", "owners": "责任人",
           "adjustments": "加减分事项", "projects": "重点项目台账", "project_progress": "重点项目进度"}
NO_DATA = "暂无数据"


def period_label(period: int | None) -> str:
    """9 → '1-9月'; 2 → '1-2月'; 1 → '1月'."""
    if not period:
        return "全年"
    return "1月" if period == 1 else f"1-{period}月"


def year_label(year) -> str:
    return f"{year}年"


def probability(p: float) -> str:
    """A simulated probability in percent, one decimal — never rounded to a certainty it is
    not: 0.9998 is ">99.9%" (not "100.0%"), 0.0002 "<0.1%"; only 1 and 0 read 100% and 0%."""
    if p >= 1:
        return "100%"
    if p <= 0:
        return "0%"
    shown = round(p * 100, 1)
    return ">99.9%" if shown >= 100 else "<0.1%" if shown <= 0 else f"{shown:.1f}%"


def labels(mapping: dict, none: str | None = None, fmt: str = "{label}"):
    """A selectbox ``format_func``: ``mapping[v]`` (else ``v``) put into ``fmt`` ({label},
    {key}); ``none`` for None. A partial of this module's function, so a widget keeps only
    the mapping: a lambda written in a page would keep the page's whole namespace (every
    frame it built) alive in each session's widget state."""
    return partial(_label, dict(mapping), none, fmt)


def _label(mapping: dict, none: str | None, fmt: str, value) -> str:
    if value is None and none is not None:
        return none
    return fmt.format(label=mapping.get(value, value), key=value)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md(text) -> str:
    """Text from a file or a user (a name, a file name, a message quoting a cell) made safe to
    put inside markdown: every markdown, HTML-entity and Streamlit directive character is
    backslash-escaped, so ``![x](http://…)``, ``**bold**``, ``:red[x]`` or ``$x$`` show as typed
    and nothing is loaded or styled. Line breaks become spaces."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))

# Accounts, login and audit (ui/auth.py, pages/users.py, pages/account.py, pages/audit.py)
LOGIN = {
    "subtitle": "县目标执行督查分析 · 请登录",
    "form": "登录",
    "username": "用户名",
    "password": "密码",
    "submit": "登录",
    "failed": "用户名或密码错误，或账户已停用",
    "refused": "该账户已停用或不存在，请重新登录",
    "logout": "退出登录",
    "oidc": "通过统一身份认证登录",
}
USER_LABELS = {"username": "用户名", "name": "姓名", "role": "角色", "disabled": "状态",
               "created_at": "创建时间", "created_by": "创建人", "password_changed_at": "密码修改时间"}
AUDIT_LABELS = {"at": "时间", "user": "用户", "action": "操作", "detail": "详情"}
AUDIT_ACTIONS = {
    "upload": "上传数据", "withdraw": "撤回上传", "verify_flag": "核实预警", "edit_data": "修改数据",
    "edit_rules": "修改规则", "lock_period": "锁定期间", "init": "初始化",
    "users_seed": "创建演示账户", "user_add": "新增用户", "user_disable": "停用用户", "user_enable": "启用用户",
    "user_reset_password": "重置密码", "user_change_role": "更改角色", "password_change": "修改本人密码",
    "login_failed": "登录失败", "login_locked": "登录锁定", "save_mapping": "保存列映射",
}

# Gap analysis (analytics/progress.py): status words and colours — colour always beside the word
STATUS_COLORS = {"done": "#1b5e20", "ahead": "#2e7d32", "on_track": "#66bb6a", "behind": "#ef8f00",
                 "far_behind": "#c62828", "missing": "#9e9e9e", "excluded": "#cfd8dc"}
# the grid's status labels carry white type: the same hues, dark enough for a contrast of at least 4.5:1
STATUS_PILL_COLORS = {"done": "#1b5e20", "ahead": "#2e7d32", "on_track": "#4a7c12", "behind": "#9c5700",
                      "far_behind": "#c62828", "missing": "#757575", "excluded": "#cfd8dc"}
STATUS_TEXT_COLORS = {"done": "#ffffff", "ahead": "#ffffff", "on_track": "#0b3d0b", "behind": "#1a1a1a",
                      "far_behind": "#ffffff", "missing": "#1a1a1a", "excluded": "#37474f"}
GAP_LABELS = {
    "unit": "单位", "indicator": "指标", "category": "类别", "unit_of_measure": "计量单位", "target": "全年目标",
    "ytd": "1-N月累计/实际", "completion": "完成率", "time_progress": "时间进度", "gap_pp": "差距（百分点）",
    "arrears": "欠账", "required_pace": "剩余月均需完成", "avg_pace": "已完成月均", "acceleration": "需加速倍数",
    "status": "状态", "gap_change": "差距较上期", "basis": "时间进度口径", "conditions": "未达条件",
    "rank": "位次", "rank_of": "参评数", "place": "位次（并列同名次）", "yoy_pct": "同比%", "owner_leader": "分管领导", "owner_staff": "经办人员",
    "owner_office": "办事机构", "note": "说明", "quality": "数据质量", "growth": "增速%", "growth_target": "增速目标%", "reason": "预警原因",
}
GAP_HELP = {
    "completion": "完成率 = 1-N月累计 ÷ 全年目标（累计类）",
    "time_progress": "时间进度：线性 = 月份÷12；季节性 = 往年同期累计占全年比重的平均；计划曲线 = 规定的进度要求",
    "gap_pp": "差距 = 完成率 − 时间进度（百分点）；速度类 = 实际 − 目标；上限类取反。按显示值（两位小数）判定状态",
    "arrears": "欠账 = 全年目标 × 时间进度 − 1-N月累计（不足为 0）",
    "required_pace": "剩余月均需完成 = （全年目标 × 年末进度要求 − 1-N月累计）÷ 剩余月数",
    "acceleration": "需加速倍数 = 剩余月均需完成 ÷ 已完成月均",
    "quality": "该数值有未核实的数据质量预警（漏报/瞒报/冒报/虚报规则），详见“数据质量”页",
    "status": "未报送 → 已完成 → 超进度（差距≥+5）/ 达进度（0～+5）/ 欠进度（−10～0）/ 严重滞后（≤−10）；速度类 ±1 个百分点",
}
OWNER_LABELS = {"owner": "责任人/单位", "targets": "目标数", "on_track": "达进度及以上", "behind": "欠进度（含严重滞后）",
                "far_behind": "严重滞后", "missing": "未报送", "worst_gap_pp": "最大差距（百分点）",
                "behind_share": "欠进度占比%"}
OWNER_DIMENSIONS = {"owner_leader": "按分管领导", "owner_office": "按办事机构", "unit": "按乡镇/部门", "owner_staff": "按经办人员"}

# 保二争一 (pages/ranking.py; analytics/scoring.py, analytics/simulation.py)
RANKING = {
    "title": "保二争一",
    "intro": "全市对县考核在同组内排名（竞争排名 1,2,2,4）。概率来自对各县年末完成率的 {draws:,} 次蒙特卡洛模拟"
             "（固定随机种子、共同随机数：调整情景时差异不是随机噪声）。",
    "p_top2": "P(前二)", "p_first": "P(第一)", "expected_rank": "期望名次", "expected_score": "期望得分",
    "rank_chart": "名次概率分布（本县与同组各县）", "rank_caption": "纵轴：获得该名次的概率（%）；横轴：名次。每组柱合计 100%。",
    "leverage": "杠杆：哪些指标最能提高名次", "leverage_chart": "完成率 +1 个百分点带来的 P(前二)/P(第一) 变化（百分点）",
    "leverage_caption": "用同一组随机数重新计分，只改变本县该指标；数值为概率变化（百分点）。",
    "what": "要达到 P(前二) > 90%，需要做什么", "scenario": "情景设置",
    "scenario_help": "拖动滑块改变本县预计年末完成率（%）；荣誉与免于扣分直接改变总分。结果即时更新。",
    "rho": "全市共同冲击相关系数 ρ", "rho_help": "同一类指标各县同涨同跌的程度：0＝各县独立，1＝完全一致；默认 0.5",
    "honours": "新增荣誉加分（分）", "avoided": "避免的扣分（分）",
    "current": "现状排名（1-N月累计 对比 按时间折算的目标）", "projected": "预计年末排名（按年末预测值计分）",
    "risk": "乡镇、县直部门风险清单", "risk_caption": "整改承诺：年终得分 < 85 且末位（并列末位均视为末位）；"
            "×10 转扣：市扣县的分按 10 倍扣责任部门；停职反省：本县在全市该指标末位时的牵头部门。"
            "P(整改承诺) 来自对乡镇、部门年末得分的模拟。",
    "reset": "恢复预测值",
}
RANKING_LABELS = {"unit": "单位", "p_first": "P(第一)", "p_top2": "P(前二)", "expected_rank": "期望名次",
                  "expected_score": "期望得分", "score_p10": "得分 P10", "score_p90": "得分 P90",
                  "indicator": "指标", "method": "计分方法", "points": "分值", "projected_completion": "预计完成率%",
                  "d_top2_1pp": "ΔP(前二) +1pp", "d_first_1pp": "ΔP(第一) +1pp", "to_100_pp": "距100%（百分点）",
                  "d_top2_to100": "ΔP(前二) 达100%", "d_first_to100": "ΔP(第一) 达100%",
                  "name": "单位", "total": "总分", "rank": "名次", "total_text": "计算过程", "consequence": "后果",
                  "reason": "依据", "group": "组别", "p_rectify": "P(整改承诺)", "p_last": "P(末位)",
                  "missing_targets": "缺目标（未计分）"}

# Year-end projection (analytics/projection.py, pages/projection.py)
PROJECTION_METHODS = {"combo": "组合（份额法与趋势法平均）", "share": "份额法", "trend": "趋势法", "scenario": "情景"}
PROJECTION_LABELS = {
    "unit": "单位", "indicator": "指标", "unit_of_measure": "计量单位", "target": "全年目标", "ytd": "1-N月累计/实际",
    "period": "截至月份", "projected": "预计年末", "low": "区间下限(80%)", "high": "区间上限(80%)",
    "p_meet": "完成目标概率", "projected_completion": "预计完成率", "completion": "当前完成率",
    "required_pace": "剩余月均需完成", "current_pace": "已完成月均", "basis": "推算依据", "history_note": "说明",
    "method": "方法", "category": "类别", "owner_leader": "分管领导", "measure": "口径",
}
PROJECTION_HELP = {
    "projected": "份额法：年末 = 1-N月累计 ÷ 往年同期累计占全年比重的平均（本单位历史，不足两年用同组、再不足用全市）；"
                 "趋势法：对按季节调整后的月度增量做阻尼趋势指数平滑；组合 = 两者平均。速度、比率类按累计增速/水平的走势推算，不按累计相加",
    "p_meet": "按各方法在往年同月的回测误差分布计算的年末达到目标的概率；上限类（越低越好）为不超过目标的概率",
    "band": "80% 区间：往年同月回测误差的 10%～90% 分位（正态近似），月份越晚越窄",
    "required_pace": "剩余月均需完成 = （全年目标 × 年末进度要求 − 1-N月累计）÷ 剩余月数",
}
PROJECTION_TEXT = {
    "title": "年终预测",
    "p_sentence": "按当前趋势，完成全年目标的概率约 {p}%",
    "p_sentence_ceiling": "按当前趋势，年末不超过控制目标的概率约 {p}%",
    "no_target": "该项没有全年目标，只给出预计年末值",
    "scenario_header": "情景推演",
    "scenario_help": "假设剩余月份的进度，立即重算预计年末值（只影响本页显示，不保存）",
    "scenario_modes": {"growth_pct": "剩余月份同比增长 x%", "pace": "剩余月份每月完成 y", "level": "年末达到（速度/比率类）"},
    "scenario_scope": {"one": "仅所选指标", "all": "全部指标"},
    "methodology": "方法说明与回测",
    "chart_caption": "实线为今年累计（或累计增速/水平），虚线为按{method}推算至12月，阴影为80%区间；蓝色点线为全年目标（含年末进度要求），浅灰线为往年同期走势。",
    "table_caption": "共 {n} 项目标 · 按完成目标概率从低到高排列（最需关注的在前）· 概率与区间来自往年同月的回测误差",
}
BACKTEST_LABELS = {"family": "序列类别", "method": "方法", "month": "截至月份", "n": "样本（单位×年）",
                   "mase": "MASE（对季节朴素法）", "mae": "平均绝对误差", "naive_mae": "朴素法平均绝对误差",
                   "n_interval": "区间样本", "coverage": "80%区间覆盖率", "width": "区间平均宽度"}
BACKTEST_FAMILIES = {"cumulative": "累计金额类（% 目标）", "count": "小额计数类（个/人，% 目标）",
                     "growth": "累计增速（百分点）", "level": "水平/比率类（% 目标）", "all": "全部"}

# 数据质量 (pages/quality.py)
QUALITY_SEVERITY = {"high": "严重", "medium": "关注", "low": "提示"}
QUALITY_SEVERITY_MARK = {"high": "▲ 严重", "medium": "● 关注", "low": "○ 提示"}
QUALITY_STATUS = {False: "待核实", True: "✓ 已核实"}
QUALITY_PILL_COLORS = {"high": "#c62828", "medium": "#9c5700", "low": "#546e7a", "open": "#9c5700", "verified": "#9e9e9e"}
QUALITY_LABELS = {"status": "状态", "severity": "级别", "family": "类别", "rule_name": "规则", "unit": "单位",
                  "indicator": "指标", "period": "期间", "explanation": "说明", "source": "来源（文件·行）",
                  "upload_id": "上传批次", "revision": "版本", "comment": "核实说明", "verified_by": "核实人",
                  "high": "严重", "medium": "关注", "low": "提示", "total": "合计", "verified": "已核实",
                  "open": "待核实"}
QUALITY_TEXT = {
    "title": "数据质量",
    "caption": "统计数据不漏报、不瞒报、不冒报、不虚报：每次上传后自动检查并随上传保存；此页按当前数据重新检查。"
               "预警不等于错误——核实后由分析员标记“已核实”并说明理由（记入审计日志），已核实的预警仍保留、以灰色显示。",
    "summary": "按规则与级别汇总",
    "list": "预警清单",
    "only_period": "只看本期",
    "show_verified": "显示已核实",
    "pick": "选择一条预警查看走势与修订记录",
    "chart_caption": "实线为{year}年数值，灰色虚线为上年同期；红色 ✕ 为预警所在期间，红色水平虚线为全年目标（同口径时）。",
    "revisions": "修订记录（同一数值的各个版本，谁在何时上传）",
    "no_revisions": "该序列本年数值没有被修订过。",
    "verify": "标记为已核实",
    "comment": "核实说明（必填）",
    "comment_help": "例如：已与报送单位电话核实，系项目集中入库，数值属实",
    "verified": "已核实：{by} 于 {at}：{comment}",
    "rules": "检查规则与阈值",
    "none": "本期没有数据质量预警",
    "no_flag_selected": "在上表中点选一行，或在此选择：",
}

# Managing the year's data (pages/library.py, adjustments.py, rules.py, periods.py; analytics/library.py, locks.py);
# the field labels are analytics.library.LABELS (shared with per-cell errors), not imported here: every page
# imports this module, and analytics.library brings the whole ingest with it (~5 MB in the server)

KIND_LABELS = {"cumulative": "累计类", "rate": "速度/比率类", "ceiling": "下降类（越小越好）", "milestone": "节点类",
               "veto": "一票否决"}
ADJUSTMENT_KIND_LABELS = {"honour": "先进荣誉（加分）", "deduction": "平安稳定减分", "interview": "约谈扣分",
                          "city_deduction": "市扣分（转扣部门×10）"}
HONOUR_LEVEL_LABELS = {"national": "国家级", "provincial": "省级", "city": "市级"}
LIBRARY = {
    "title": "指标库与目标",
    "caption": "维护每个指标的类型、方向、分值、类别、重点/难点标记、进度曲线和责任人（变更自生效日期起适用，历史保留）；"
               "导入市目标任务分解表、登记年中目标调整。每次保存前先预览变化，保存为一次事务并记入审计日志（含修改前后值）。",
    "curve_help": "linear＝线性 m/12；seasonal＝按往年同期进度；plan:6=60;12=120＝计划曲线（月=占年度目标%，月份 1–12 递增）",
    "needs_review_help": "由上传时“自动创建未知指标”新建，补全类别和计量单位并保存后自动清除",
    "no_changes": "尚未修改：在表格中直接编辑单元格，下方会预览将保存的变化",
    "preview": "将保存的变化（预览）",
    "problems": "以下单元格未通过校验，修正后才能保存",
    "saved": "已保存 {n} 项修改，并记入审计日志",
    "owners_help": "修改分管领导/经办人员/办事机构时，须把“生效日期”改为变更生效的那一天（晚于现任的生效日期）；"
                   "原责任人保留在历史中，通报按当期在任的责任人署名",
}
ADJUSTMENTS = {
    "title": "加减分事项",
    "caption": "录入先进荣誉（按级别：国家级/省级/市级，同一事项只计最高级别）、平安稳定减分、约谈扣分，"
               "以及市对县扣分及其转扣的县直部门（按 10 倍转扣）。分值一律填正数，加分或减分由类型决定。"
               "每条录入记入审计日志；录错的条目可撤回（与撤回上传相同，不删除记录）。",
}
RULES = {
    "title": "考核规则",
    "caption": "计分规则是数据（TOML）：每个指标一节 [rules.<指标编码>]，写明分值 points 与计分方法 method。"
               "修改后先校验、查看与现行规则的差异，再保存；注释和顺序原样保留。规则按年度保存，"
               "未单独保存过的年度使用默认规则文件。",
}
PERIODS = {
    "title": "报告期锁定",
    "caption": "某期通报发布后锁定该期：之后涉及该期数值的上传一律拒绝（提示锁定的期间）。"
               "确需更正时由管理员解锁，须填写原因，记入审计日志。",
}
AUDIT_ACTIONS.update({
    "edit_indicators": "修改指标库", "edit_owners": "变更责任人", "import_library": "导入指标库",
    "change_target": "调整目标", "add_adjustment": "录入加减分事项", "unlock_period": "解锁期间",
    "rollover": "年度结转",
})

# 定期通报 (pages/bulletin.py, analytics/bulletin.py)
BULLETIN = {
    "title": "通报导出",
    "intro": "按所选期间生成可直接印发的定期通报（Word）、数据表（Excel，每表一个工作表）和各责任单位的预警通知单（Word）。"
             "数字均由系统按当前数据计算；某项数据暂缺时，该栏目写明“（暂无此项数据）”及原因。",
    "period": "通报期间", "sections": "通报栏目", "charts": "插入图表（需图表渲染组件，约需 10-20 秒）",
    "issuer": "发文单位", "issued": "成文日期", "template": "参考模板（.docx，可选：沿用其样式与页面设置）",
    "preview": "通报摘要预览", "generate": "生成通报文件", "generating": "正在生成通报（含图表导出）…",
    "docx": "下载通报（Word）", "xlsx": "下载数据表（Excel）", "notices": "下载预警通知单（Word）",
    "no_charts": "图表未能生成，通报仅含表格：", "missing": "以下栏目暂无数据：",
    "behind": "进度滞后目标 {n} 项，涉及责任单位 {m} 个（每单位一页预警通知单）。",
}
