"""Streamlit glue shared by app.py and the pages (cached resources, sign-in state, error display).

This is UI-layer code: it may import streamlit; the library (awsome_core) may not.
"""
