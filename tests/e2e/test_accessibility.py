"""axe-core in Chromium on every customer page, logged out and logged in, on a 360 px phone and
at 1280 px: no serious or critical violation. The same walk writes a full-page screenshot of
each page to var/screenshots/pages/<page>-<width>-<in|out>.png, for people to look at.

axe-core comes from npm (package.json, `make test` installs it). Playwright's add_script_tag
would add it as an inline <script>, which the portal's Content-Security-Policy refuses (and the
watch would report); page.evaluate runs its source through the DevTools protocol instead, which
the policy does not govern, so the pages are checked under their real policy, bypass_csp off.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from tests.conftest import BASE_DIR, csp_check, csp_watch
from tests.customer_pages import EMPTY, IN, OUT, CustomerPage, Journey, journey_create
from tests.services import service_missing

pytestmark = [pytest.mark.chromium, pytest.mark.postgres]

AXE = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = BASE_DIR / "var" / "screenshots" / "pages"
VIEWPORTS = {360: {"width": 360, "height": 740}, 1280: {"width": 1280, "height": 800}}
FAILING = ("serious", "critical")

# Every rule axe runs by default (WCAG 2.x A and AA, and its best practices), and WCAG 2.2's
# target size, which axe leaves off by default but Lighthouse's accessibility score counts: a
# link a finger cannot hit on the phone. Only the violations that matter enough to fail on come
# back, with what a reader needs to fix them.
AXE_RUN = """async (failing) => {
  const results = await axe.run(document, {
    resultTypes: ["violations"], rules: {"target-size": {enabled: true}},
  });
  return results.violations
    .filter((v) => failing.includes(v.impact))
    .flatMap((v) => v.nodes.map((node) => ({
      id: v.id, impact: v.impact, help: v.help, target: node.target.join(" "),
    })));
}"""


@cache
def axe_source() -> str:
    if not AXE.exists():
        service_missing(f"needs axe-core at {AXE.relative_to(BASE_DIR)} (npm ci, or make test)")
    return AXE.read_text()


def axe_violations(tab: Any) -> list[dict[str, str]]:
    """The serious and critical violations axe finds on the tab's page as it is now."""
    if not tab.evaluate("typeof window.axe === 'object'"):
        tab.evaluate(axe_source())
    return tab.evaluate(AXE_RUN, list(FAILING))


def session_cookie(user: User, url: str) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


@pytest.fixture
def journey(transactional_db: None) -> Journey:
    return journey_create()


@pytest.fixture
def tabs(browser: Any, live_server: Any) -> Iterator[tuple[dict[int, Any], list[str]]]:
    """One context and tab per width (logged out to begin with), and what they reported of the
    Content-Security-Policy."""
    violations: list[str] = []
    contexts = {}
    for width, viewport in VIEWPORTS.items():
        context = browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(15_000)
        csp_watch(context, violations)
        contexts[width] = context
    yield {width: context.new_page() for width, context in contexts.items()}, violations
    for context in contexts.values():
        context.close()


def visit(tab: Any, live_url: str, page: CustomerPage, width: int, state: str) -> list[str]:
    """Open the page, screenshot it and check it; what is wrong with it, one line each."""
    response = tab.goto(page.path)
    expected = 404 if page.name == "404" else 200
    where = f"{page.name} ({page.path}) at {width} px, {'out' if state == OUT else 'in'}"
    if response.status != expected or tab.url != live_url + page.path:
        return [f"{where}: answered {response.status} at {tab.url}, expected {expected} there"]
    tab.wait_for_load_state("load")
    shot = SCREENSHOTS / f"{page.name}-{width}-{'out' if state == OUT else 'in'}.png"
    tab.screenshot(path=str(shot), full_page=True)
    return [
        f"{where}: {v['impact']} {v['id']} on {v['target']}: {v['help']}"
        for v in axe_violations(tab)
    ]


def test_every_customer_page_has_no_serious_violation(tabs, journey, live_server):
    tab_of, csp_violations = tabs
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = journey.pages()
    problems: list[str] = []
    checked = 0
    for state, user in ((OUT, None), (IN, journey.user), (EMPTY, journey.newcomer)):
        for width, tab in tab_of.items():
            if user is not None:
                tab.context.clear_cookies()
                tab.context.add_cookies([session_cookie(user, live_server.url)])
            for page in (p for p in pages if state in p.states):
                problems += visit(tab, live_server.url, page, width, state)
                checked += 1
    assert checked == 2 * sum(len(p.states) for p in pages)
    csp_check(csp_violations)
    if problems:
        pytest.fail(
            f"{len(problems)} serious or critical accessibility problems:\n" + "\n".join(problems),
            pytrace=False,
        )


def test_the_check_finds_an_unnamed_button_and_a_picture_without_text(page):
    page.goto("/")
    assert axe_violations(page) == []
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend",
          '<button id="bare"></button><img id="mute" src="/static/img/none.png">')"""
    )
    found = {(v["id"], v["target"]) for v in axe_violations(page)}
    assert found == {("button-name", "#bare"), ("image-alt", "#mute")}
