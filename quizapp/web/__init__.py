"""Plain HTTP pages served beside the Streamlit app (Starlette; no streamlit import)."""
