"""目标督查分析 — the core: DuckDB store, ingest, analysis. Never imports streamlit."""
