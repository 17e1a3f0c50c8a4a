"""Chinese UI strings, kept together (labels of fields, measures, statuses, layouts)."""
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
    "login_failed": "登录失败", "save_mapping": "保存列映射",
}
