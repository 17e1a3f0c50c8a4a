"""Few error types, one shape: the CLI prints ``to_dict()`` and exits with ``exit_code``;
a page shows ``str(error)`` with ``st.error``."""
from __future__ import annotations

from dataclasses import dataclass, field


class AnalyticsError(Exception):
    """Base of every error the core raises on purpose (never a bare traceback to a user)."""

    exit_code = 2

    def to_dict(self) -> dict:
        return {"error": type(self).__name__, "reason": str(self)}


@dataclass
class Problem:
    """One finding about an input file: where it is and why.

    ``row`` is the 1-based line (CSV) or row number (XLSX) in the file, ``column`` the header text.
    """

    file: str
    row: int | None
    column: str | None
    reason: str
    severity: str = "error"  # error (row rejected) | warning (row stored, reported)

    def to_dict(self) -> dict:
        return {"file": self.file, "row": self.row, "column": self.column,
                "reason": self.reason, "severity": self.severity}

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f"「{self.column}」列"
        return f"{where}：{self.reason}"


class IngestError(AnalyticsError):
    """A file refused as a whole; nothing was stored."""

    def __init__(self, reason: str, file: str = "", row: int | None = None,
                 column: str | None = None, problems: list[Problem] | None = None):
        self.problem = Problem(file, row, column, reason)
        self.problems = problems or [self.problem]
        super().__init__(str(self.problem))

    def to_dict(self) -> dict:
        return {"error": "IngestError", **self.problem.to_dict(),
                "problems": [p.to_dict() for p in self.problems]}


class DuplicateUpload(AnalyticsError):
    """The same file (sha256) was already stored."""

    exit_code = 4

    def __init__(self, file: str, sha256: str, upload_id: int):
        self.file, self.sha256, self.upload_id = file, sha256, upload_id
        super().__init__(f"{file}：同一文件（sha256 {sha256[:12]}…）已于上传 #{upload_id} 入库，无需重复上传")

    def to_dict(self) -> dict:
        return {"error": "DuplicateUpload", "file": self.file, "sha256": self.sha256,
                "upload_id": self.upload_id, "reason": str(self)}


class DatabaseLocked(AnalyticsError):
    """Another process holds the DuckDB file."""

    exit_code = 3

    def __init__(self, path: str, holder: str):
        self.path, self.holder = path, holder
        super().__init__(f"数据库文件 {path} 正被其他进程占用（{holder}），请稍后重试")

    def to_dict(self) -> dict:
        return {"error": "DatabaseLocked", "path": self.path, "holder": self.holder, "reason": str(self)}


class PermissionDenied(AnalyticsError):
    """The caller's role may not perform this write."""

    exit_code = 2


@dataclass(frozen=True)
class Actor:
    """Who performs an operation; every write names one (written to the audit log)."""

    username: str
    role: str = "viewer"  # viewer | analyst | admin
    name: str = field(default="", compare=False)
