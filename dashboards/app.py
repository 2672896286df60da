"""The dashboard's entry point: `fengqiao dashboard` runs `streamlit run` on this file."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import OperationalError

from contracts.settings import Settings
from dashboards import context
from dashboards.labels import labels

PAGES_DIR = Path(__file__).resolve().parent / "pages"
# (script, title label, URL path); the first is the default page.
PAGES = (
    ("today.py", "page_today", "today"),
    ("grievances.py", "page_grievances", "grievances"),
    ("case.py", "page_case", "case"),
    ("trends.py", "page_trends", "trends"),
    ("model.py", "page_model", "model"),
)


LOGGER = logging.getLogger("fengqiao.dashboard")


def _words() -> dict[str, str]:
    """The user's words for an error (Chinese when even the settings cannot be read)."""
    try:
        return labels(context.language(Settings().language))
    except Exception:
        return labels("zh")


def _run() -> None:
    """Log in (nothing else is shown until then), then run the chosen page."""
    shared = context.start()
    if shared is None:
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
    try:
        _run()
    except OperationalError:
        LOGGER.exception("the store could not be read")
        st.error(_words()["store_busy"])
    except Exception:
        LOGGER.exception("a dashboard page failed")
        st.error(_words()["unexpected_error"])


if __name__ == "__main__":
    main()
