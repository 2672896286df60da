"""The dashboard's entry point: `fengqiao dashboard` runs `streamlit run` on this file."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import context

PAGES_DIR = Path(__file__).resolve().parent / "pages"
# (script, title label, URL path); the first is the default page.
PAGES = (
    ("today.py", "page_today", "today"),
    ("grievances.py", "page_grievances", "grievances"),
    ("case.py", "page_case", "case"),
    ("trends.py", "page_trends", "trends"),
    ("model.py", "page_model", "model"),
)


def main() -> None:
    """Log in (nothing else is shown until then), then run the chosen page."""
    st.set_page_config(page_title="枫桥 Fengqiao", page_icon="🍁", layout="wide")
    shared = context.start()
    if shared is None:
        return
    pages = [
        st.Page(PAGES_DIR / script, title=shared.words[title], url_path=path, default=index == 0)
        for index, (script, title, path) in enumerate(PAGES)
    ]
    st.navigation(pages).run()


if __name__ == "__main__":
    main()
