"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright): an analyst logs
in, filters the list, opens a case, records an action, looks at a grievance's open cases, and every page is
photographed.

Screenshots go to a temporary folder; with FENGQIAO_SCREENSHOT_HOME set to a populated home (e.g. the
demo's `.fengqiao`) the app runs on that home and the pictures replace those in docs/screenshots/.
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
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from contracts.settings import Settings
from tests.dashboard_home import PASSWORD, RAW_PHONE, SECRET_NUMBERS, build_home
from warehouse.accounts import Role, add_account, find_account
from warehouse.dashboard_tables import feedback
from warehouse.store import Warehouse
from warehouse.tables import grievances, lists

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS_HOME = os.environ.get("FENGQIAO_SCREENSHOT_HOME")
DEMO_ANALYST = "analyst-demo"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _analyst(settings: Settings) -> str:
    """The analyst to log in as: `ana` on the tiny home; on a demo home one for the top case's district (and
    the latest list's first surge's, if any, so that the grievances page shows one)."""
    if not SHOTS_HOME:
        return "ana"
    warehouse = Warehouse(settings.warehouse_url)
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


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """`fengqiao dashboard` on a free port, stopped (with its Streamlit child) afterwards."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    work = tmp_path_factory.mktemp("browser")
    settings = Settings(home=Path(SHOTS_HOME)) if SHOTS_HOME else build_home(work / "home")
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


def test_analyst_flow_in_chromium(served: tuple[str, Settings], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, settings = served
    shots = ROOT / "docs" / "screenshots" if SHOTS_HOME else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    analyst = _analyst(settings)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"])
        page = browser.new_page(viewport={"width": 1440, "height": 1600}, locale="zh-CN")
        page.set_default_timeout(60_000)

        def leaks() -> list[str]:
            html = page.content()
            return [number for number in SECRET_NUMBERS if number in html]

        page.goto(url)
        page.get_by_label("用户名").fill(analyst)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="今日名单")).to_be_visible()
        if not SHOTS_HOME:
            expect(page.get_by_text("本期名单有 2 项聚集诉求（1 项激增）")).to_be_visible()

        page.locator('[data-testid="stMultiSelect"]').filter(has_text="风险等级").click()
        page.get_by_role("option", name="高", exact=True).click()
        page.keyboard.press("Escape")
        expect(page.locator('[data-testid="stMultiSelect"]').filter(has_text="风险等级")).to_contain_text(
            "高"
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / "today.png"))
        assert not leaks()

        grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
        page.mouse.click(grid["x"] + 18, grid["y"] + 35 + 17)  # the first row's selection box
        page.get_by_role("button", name="打开所选案件").click()
        expect(page.get_by_role("heading", name="案件概况")).to_be_visible()

        page.get_by_role("textbox", name="备注").fill(f"已电话联系当事人 {RAW_PHONE}，约定下周调解")
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_text("已保存。")).to_be_visible()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / "case.png"))
        assert not leaks()

        page.get_by_role("link", name="聚集诉求", exact=True).click()
        expect(page.get_by_role("heading", name="聚集诉求")).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)
        tables = page.locator('[data-testid="stDataFrame"]')
        if not SHOTS_HOME or tables.count():  # a demo district may have no grievance that day
            grid = tables.first.bounding_box()
            page.mouse.click(grid["x"] + 18, grid["y"] + 35 + 17)  # the first grievance (a surge if any)
            expect(page.get_by_role("heading", name="涉及的在办案件")).to_be_visible()
            page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / "grievances.png"))
        assert not leaks()

        for title, name in (("趋势", "trends"), ("模型", "model")):
            page.get_by_role("link", name=title).click()
            expect(page.get_by_role("heading", name=title)).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(6000 if name == "model" else 2500)
            page.screenshot(path=str(shots / f"{name}.png"))
            assert not leaks()
        browser.close()

    notes = Warehouse(settings.warehouse_url).read_table(feedback, feedback.c.user_name == analyst)
    assert notes["note"].iloc[-1] == "已电话联系当事人 [电话]，约定下周调解"
    assert sorted(p.name for p in shots.glob("*.png")) == [
        "case.png",
        "grievances.png",
        "model.png",
        "today.png",
        "trends.png",
    ]
