"""Streamlit pages. They draw and call the domain; no SQL and no torch here."""
