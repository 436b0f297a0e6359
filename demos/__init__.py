"""Live PyTorch demos. Pure Python + torch + plotly; never imports streamlit.

`demos.catalogue` is torch-free metadata; `demos.registry` loads modules; `demos.runtime` runs them.
"""
