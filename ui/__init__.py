"""The Streamlit layer: cached calls into analytics/, shared widgets and the Chinese UI text."""
