"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright, at 1440×900): an
analyst follows a link to a case before logging in (the login form, no page names), logs in and lands on that
case, reloads (the session survives), reads today's list with every reason of a row in full, follows a link to
a case and records an action; a case of another district is refused; the same in English; every page is
photographed.

Screenshots go to a temporary folder; with FENGQIAO_SCREENSHOT_HOME set to a populated home (e.g. the
demo's `.fengqiao`) the app runs on that home and the pictures replace those in docs/screenshots/.
Chinese text needs a CJK font (Debian's `fonts-noto-cjk`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from contracts.settings import Settings
from dashboards import auth
from dashboards.labels import EN, ZH
from dashboards.present import reason_items
from tests.dashboard_home import PASSWORD, RAW_PHONE, SECRET_NUMBERS, build_home
from warehouse.accounts import Role, add_account, find_account
from warehouse.dashboard_tables import assignments, feedback
from warehouse.store import Warehouse
from warehouse.tables import grievances, list_manifests, lists

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS_HOME = os.environ.get("FENGQIAO_SCREENSHOT_HOME")
DEMO_ANALYST = "analyst-demo"
VIEWPORT = {"width": 1440, "height": 900}
PAGE_NAMES = ("today", "case", "grievances", "trends", "model", "worklist")  # what Streamlit would list

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
    ),
]


@dataclass(frozen=True)
class Walk:
    """Who walks through the app and on which cases: the analyst, the first two cases of their list (rank
    order) with their reasons, the unit the second is assigned to, and a listed case of a district they do
    not see (if any)."""

    analyst: str
    first: str
    second: str
    reasons: dict[str, str]
    unit: str
    other_district: str | None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _analyst(warehouse: Warehouse) -> str:
    """The analyst to log in as: `ana` on the tiny home; on a demo home one for the top case's district (and
    the latest list's first surge's, if any, so that the grievances page shows one)."""
    if not SHOTS_HOME:
        return "ana"
    with warehouse.transaction() as connection:
        if find_account(connection, DEMO_ANALYST) is None:
            top = connection.execute(
                select(lists.c.district).order_by(lists.c.as_of.desc(), lists.c.rank)
            ).first()
            surge = connection.execute(
                select(grievances.c.district)
                .where(grievances.c.surge)
                .order_by(grievances.c.as_of.desc(), grievances.c.distinct_callers.desc())
            ).first()
            districts = tuple(dict.fromkeys([top.district, *([surge.district] if surge else [])]))
            add_account(connection, DEMO_ANALYST, Role.ANALYST, districts, PASSWORD)
    return DEMO_ANALYST


def _walk(settings: Settings) -> Walk:
    """The analyst and the cases the walk uses, read from the store (the latest list)."""
    warehouse = Warehouse(settings.warehouse_url)
    analyst = _analyst(warehouse)
    with warehouse.transaction() as connection:
        districts = find_account(connection, analyst).districts
        as_of = connection.execute(
            select(list_manifests.c.as_of).order_by(list_manifests.c.as_of.desc())
        ).scalar()
        rows = connection.execute(
            select(lists.c.case_id, lists.c.district, lists.c.reasons)
            .where(lists.c.as_of == as_of)
            .order_by(lists.c.rank)
        ).all()
        own = [row for row in rows if row.district in districts]
        unit = connection.execute(
            select(assignments.c.unit).where(
                assignments.c.as_of == as_of, assignments.c.case_id == own[1].case_id
            )
        ).scalar_one()
    warehouse.engine.dispose()
    other = next((row.case_id for row in rows if row.district not in districts), None)
    reasons = {r.case_id: r.reasons for r in own[:2]}
    return Walk(analyst, own[0].case_id, own[1].case_id, reasons, unit, other)


def _worklist(page: Any, words: dict[str, str], unit: str) -> None:
    """Open the worklist page and pick a unit: its title names the unit."""
    from playwright.sync_api import expect

    page.get_by_role("link", name=words["page_worklist"], exact=True).click()
    expect(page.get_by_role("heading", name=words["page_worklist"])).to_be_visible()
    _settled(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text=words["unit"]).first.click()
    page.keyboard.type(unit)  # a city has many units: the picker's search narrows the options to it
    page.get_by_role("option").filter(has_text=unit).first.click()
    expect(page.get_by_role("heading", name=words["worklist_unit_title"].format(unit=unit))).to_be_visible()
    _settled(page)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """`fengqiao dashboard` on a free port, freshly started (the first address asked for is a case's), stopped
    (with its Streamlit child) afterwards."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    work = tmp_path_factory.mktemp("browser")
    settings = Settings(home=Path(SHOTS_HOME)) if SHOTS_HOME else build_home(work / "home", routed=True)
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "--home",
            str(settings.home),
            "dashboard",
            "--port",
            str(port),
        ],
        cwd=work,
        env={**environment, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://localhost:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the dashboard did not start within a minute")
        yield url, settings
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _settled(page: Any) -> None:
    """Wait until Streamlit has finished the run (its status widget gone) and the page has painted."""
    page.wait_for_load_state("networkidle")
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
    page.wait_for_timeout(700)


def _tick_row(page: Any, row: int) -> None:
    """Tick a row of the page's first table (its selection box: the grid's rows are 35 px high)."""
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(grid["x"] + 18, grid["y"] + 35 * (row + 1) + 17)


def _reasons_readable(page: Any, reasons: str) -> None:
    """Every reason of the row appears whole, on its own line, beside the list."""
    for item in reason_items(reasons):
        expect_visible(page.get_by_role("listitem").filter(has_text=item).first)


def expect_visible(locator: Any) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_visible()


def _record_action(page: Any, words: dict[str, str], note: str) -> None:
    page.get_by_role("textbox", name=words["note"]).fill(note)
    page.get_by_role("button", name=words["save"]).click()
    expect_visible(page.get_by_text(words["saved"]))
    _settled(page)


def test_analyst_day_in_chromium(served: tuple[str, Settings], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, settings = served
    shots = ROOT / "docs" / "screenshots" if SHOTS_HOME else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    walk = _walk(settings)
    expect.set_options(timeout=60_000)  # a cold server's first page takes a while on a busy machine
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"])
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        context.set_default_timeout(60_000)
        page = context.new_page()

        def leaks() -> list[str]:
            html = page.content()
            return [number for number in SECRET_NUMBERS if number in html]

        # A link to a case, the first address the fresh server is asked for: the login form, no page names.
        page.goto(f"{url}/case?case={walk.first}")
        expect(page.get_by_label(ZH["user_name"])).to_be_visible()
        _settled(page)
        assert not [name for name in PAGE_NAMES if page.get_by_role("link", name=name, exact=True).count()]
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
        page.screenshot(path=str(shots / "login.png"))
        page.get_by_label(ZH["user_name"]).fill(walk.analyst)
        page.get_by_label(ZH["password"]).fill(PASSWORD)
        page.get_by_role("button", name=ZH["login"]).click()
        expect(
            page.get_by_role("heading", name=ZH["profile"])
        ).to_be_visible()  # the linked case, after login
        assert page.url.endswith(f"/case?case={walk.first}")
        page.wait_for_function(f"document.cookie.includes('{auth.SESSION_COOKIE}=')")  # written by the page

        # Today's list after a reload (the session survives it): every reason of a row readable beside it.
        page.goto(url)
        expect(page.get_by_role("heading", name=ZH["page_today"])).to_be_visible()
        _settled(page)
        assert page.get_by_label(ZH["password"]).count() == 0
        _reasons_readable(page, walk.reasons[walk.first])
        _tick_row(page, 1)
        expect(page.get_by_text(f"{walk.second} · ", exact=False).first).to_be_visible()
        _reasons_readable(page, walk.reasons[walk.second])
        link = page.get_by_role("link", name=ZH["open_case_page"].format(case_id=walk.second))
        expect(link).to_be_visible()
        page.screenshot(path=str(shots / "today.png"))
        assert not leaks()

        # The case, opened by its link; an action recorded.
        link.click()
        expect(page.get_by_role("heading", name=ZH["profile"])).to_be_visible()
        assert page.url.endswith(f"/case?case={walk.second}")
        _record_action(page, ZH, f"已电话联系当事人 {RAW_PHONE}，约定下周调解")
        page.screenshot(path=str(shots / "case.png"))
        assert not leaks()

        # The worklist of the unit the case is assigned to.
        _worklist(page, ZH, walk.unit)
        page.screenshot(path=str(shots / "worklist.png"))
        assert not leaks()

        # A case of another district, asked for by its address: refused, nothing of it shown.
        if walk.other_district is not None:
            page.goto(f"{url}/case?case={walk.other_district}")
            expect(page.get_by_text(ZH["case_refused"].format(case_id=walk.other_district))).to_be_visible()
            assert page.get_by_role("heading", name=ZH["profile"]).count() == 0

        pages = (
            (ZH["page_grievances"], "grievances"),
            (ZH["page_trends"], "trends"),
            (ZH["page_model"], "model"),
        )
        for title, name in pages:
            page.get_by_role("link", name=title, exact=True).click()
            expect(page.get_by_role("heading", name=title)).to_be_visible()
            _settled(page)
            expect(page.get_by_text(ZH["loading_model"])).to_be_hidden()  # the Model page reads MLflow
            if name == "grievances" and page.locator('[data-testid="stDataFrame"]').count():
                _tick_row(page, 0)  # the first grievance (a surge if any) and its open cases
                cases = page.get_by_role("heading", name="涉及的在办案件")
                expect(cases).to_be_visible()
                _settled(page)
                cases.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"{name}.png"))
            assert not leaks()

        # The same day in English (the language is kept by the browser).
        page.get_by_role("link", name=ZH["page_today"], exact=True).click()
        _settled(page)
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="English").click()
        expect(page.get_by_role("heading", name=EN["page_today"])).to_be_visible()
        _settled(page)
        _reasons_readable(page, walk.reasons[walk.first])
        page.screenshot(path=str(shots / "today.en.png"))
        page.goto(f"{url}/case?case={walk.first}")
        expect(page.get_by_role("heading", name=EN["profile"])).to_be_visible()
        _record_action(page, EN, f"Called the parties on {RAW_PHONE}")
        page.screenshot(path=str(shots / "case.en.png"))
        assert not leaks()
        _worklist(page, EN, walk.unit)
        page.screenshot(path=str(shots / "worklist.en.png"))
        assert not leaks()
        browser.close()

    notes = Warehouse(settings.warehouse_url).read_table(feedback, feedback.c.user_name == walk.analyst)
    assert notes["note"].tolist()[-2:] == [
        "已电话联系当事人 [电话]，约定下周调解",
        "Called the parties on [电话]",
    ]
    assert notes["case_id"].tolist()[-2:] == [walk.second, walk.first]
    assert {p.name for p in shots.glob("*.png")} >= {
        "login.png",
        "today.png",
        "case.png",
        "grievances.png",
        "trends.png",
        "model.png",
        "today.en.png",
        "case.en.png",
        "worklist.png",
        "worklist.en.png",
    }
