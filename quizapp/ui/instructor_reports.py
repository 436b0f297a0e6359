"""Gradebook and item-analysis sections of the Teach page (filled in when the statistics land)."""

import streamlit as st


def gradebook_section(me, cohort, members) -> None:  # type: ignore[no-untyped-def]
    st.info("The gradebook appears here.")


def items_section(me, cohort, tasks) -> None:  # type: ignore[no-untyped-def]
    st.info("Item analysis appears here.")
