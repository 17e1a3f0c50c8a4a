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
UPLOAD_STATUS = {"stored": "✅ 已全部入库", "partial": "⚠️ 部分入库", "refused": "⛔ 已拒绝（未存储任何数据）",
                 "duplicate": "ℹ️ 重复文件（已入库过，未重复存储）", "withdrawn": "↩️ 已撤回"}
SEVERITY = {"error": "⛔ 拒绝", "warning": "⚠️ 警告（已入库）", "info": "ℹ️ 提示"}
LAYOUTS = {"long": "长表（单位×指标×期间）", "units": "单位库", "indicators": "指标库", "owners": "责任人",
           "adjustments": "加减分事项", "projects": "重点项目台账", "project_progress": "重点项目进度"}
NO_DATA = "暂无数据"


def period_label(period: int | None) -> str:
    """9 → '1-9月'; 2 → '1-2月'; 1 → '1月'."""
    if not period:
        return "全年"
    return "1月" if period == 1 else f"1-{period}月"
