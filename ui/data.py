"""Cached reads: every result is keyed by the database's data version (bumped by every
write), so reruns and other sessions rarely open the file and never see stale data."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import browse as browse_mod
from analytics import db, ingest, readers, seed
from analytics.ingest import IngestOptions


@st.cache_resource(show_spinner="首次启动：正在创建数据库并载入演示数据…")
def ensure_database(path: str) -> bool:
    return seed.ensure_database(path)


def version(path: str | None = None) -> str:
    return db.data_version(path)


@st.cache_data(show_spinner=False, max_entries=64)
def _catalog(path: str, data_version: str) -> dict:
    return browse_mod.catalog(path)


def catalog() -> dict:
    path = str(db.db_path())
    return _catalog(path, version(path))


@st.cache_data(show_spinner=False, max_entries=256)
def _browse(path: str, data_version: str, year, period, unit, indicator) -> pd.DataFrame:
    return browse_mod.browse(year, period, unit, indicator, path)


def browse(year=None, period=None, unit=None, indicator=None) -> pd.DataFrame:
    path = str(db.db_path())
    return _browse(path, version(path), year, period, unit, indicator)


@st.cache_data(show_spinner=False, max_entries=16)
def _uploads(path: str, data_version: str) -> pd.DataFrame:
    return browse_mod.uploads(path)


def uploads() -> pd.DataFrame:
    path = str(db.db_path())
    return _uploads(path, version(path))


@st.cache_data(show_spinner="正在识别表格…", max_entries=8)
def _preview(content: bytes, name: str, options: IngestOptions, path: str, data_version: str) -> dict:
    return ingest.preview(content, name, options, path=path)


def preview(content: bytes, name: str, options: IngestOptions) -> dict:
    """What ingest would do with this file (detected layout, columns, first records)."""
    path = str(db.db_path())
    return _preview(content, name, options, path, version(path))


@st.cache_data(show_spinner=False, max_entries=8)
def sheets(content: bytes, name: str) -> list[dict]:
    return readers.sheet_list(content, name)


@st.cache_data(show_spinner=False, max_entries=64)
def _upload_report(path: str, data_version: str, upload_id: int) -> dict | None:
    return browse_mod.upload_report(upload_id, path)


def upload_report(upload_id: int) -> dict | None:
    path = str(db.db_path())
    return _upload_report(path, version(path), upload_id)
