"""The dashboard's entry point: `fengqiao dashboard` runs `streamlit run` on this file."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from contracts.settings import Settings
from dashboards import context
from dashboards.labels import labels

PAGES_DIR = Path(__file__).resolve().parent / context.PAGES_FOLDER
# (script, title label, URL path); the first is the default page.
PAGES = (
    ("today.py", "page_today", "today"),
    ("grievances.py", "page_grievances", "grievances"),
    ("case.py", "page_case", "case"),
    ("worklist.py", "page_worklist", "worklist"),
    ("trends.py", "page_trends", "trends"),
    ("model.py", "page_model", "model"),
)


def _run() -> None:
    """Log in (nothing else is shown until then, whatever the address: every page's address leads to the
    login form and keeps its query, so a link to a case opens it after login), then run the chosen page
    (which shows who is logged in and whether the newest list is stale: see context.page)."""
    shared = context.start()
    if shared is None:
        title = labels(context.language(Settings().language))["login_title"]
        hidden = [
            st.Page(context.login_page, title=title, url_path=path, default=index == 0)
            for index, (_, _, path) in enumerate(PAGES)
        ]
        st.navigation(hidden, position="hidden").run()
        return
    pages = [
        st.Page(PAGES_DIR / script, title=shared.words[title], url_path=path, default=index == 0)
        for index, (script, title, path) in enumerate(PAGES)
    ]
    st.navigation(pages).run()


def main() -> None:
    """The app, with errors told in the user's words: the traceback goes to the server's log, never to the
    browser (Streamlit itself is told to show no error details either)."""
    st.set_option("client.showErrorDetails", "none")
    st.set_option("client.disableDataExport", True)  # exports go through present.py, formulas neutralised
    st.set_page_config(page_title="枫桥 Fengqiao", page_icon="🍁", layout="wide")
    context.guarded(_run)


if __name__ == "__main__":
    main()
