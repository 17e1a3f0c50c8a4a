"""Router only: page config, first-start database, sidebar selectors, navigation."""
import streamlit as st

from analytics import db
from ui import data, state
from ui.text import APP_TITLE

st.set_page_config(page_title=APP_TITLE, page_icon="🎯", layout="wide")
data.ensure_database(str(db.db_path()))

pages = {
    "数据": [
        st.Page("pages/browse.py", title="数据浏览", icon="🔎", url_path="browse", default=True),
        st.Page("pages/upload.py", title="数据上传", icon="📤", url_path="upload"),
    ],
}
nav = st.navigation(pages)
state.sidebar_selectors()
nav.run()
