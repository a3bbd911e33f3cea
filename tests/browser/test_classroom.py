"""A classroom in real Chromium, against the whole app running as `make run` runs it.

An instructor creates a class in the page's form and reads its join code; a learner, in a browser
context of their own, joins with the code, opens the first lesson and passes a step; the
instructor's dashboard, open all along, shows the pass within one second of the learner's page,
without reloading and over one event stream per tab; the instructor opens the learner's view,
resets their sandbox (the learner's page shows the cluster emptied) and sends them a message
(it shows on the learner's page), all live.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.layout import cut_off_at_the_right

pytestmark = [pytest.mark.browser, pytest.mark.system, pytest.mark.xdist_group("classroom")]

LESSON = "cluster"  # the first lesson
STEP = "desired-state"  # its first step with a manifest: a Deployment of 4 pods labelled app=welcome
# The step's cell in a learner's row, found by its title (shown on hover): "<lesson> · <step's title>".
STEP_CELL = 'td.cell[title^="cluster · Describe what you want"]'
LATENCY_LIMIT_MS = 1_000

# Records, in the page, the first moment (Date.now(), the machine's clock, shared by every page of
# the browser) at which `selector` matches; the observer runs as each mutation lands, before paint.
WATCH_FOR = """([key, selector]) => {
    window.seenAt = window.seenAt || {};
    const look = () => {
        if (!window.seenAt[key] && document.querySelector(selector)) window.seenAt[key] = Date.now();
    };
    new MutationObserver(look).observe(document.documentElement, {subtree: true, childList: true, attributes: true});
    look();
}"""

# Counts the EventSources a page opens (a navigation starts the count again).
COUNT_EVENT_SOURCES = """
window.eventSourcesOpened = 0;
window.EventSource = class extends window.EventSource {
    constructor(...args) { super(...args); window.eventSourcesOpened += 1; }
};
"""


def log_in(page: Page, site, username: str, password: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who")).to_have_text(username)


def mark_page(page: Page) -> None:
    """A marker that a reload or a navigation would wipe out."""
    page.evaluate("window.stillTheSamePage = true")


def same_page(page: Page) -> bool:
    return page.evaluate("window.stillTheSamePage === true")


def stream_requests(page: Page) -> list[str]:
    """Every request the page makes to an event stream (`…/stream`), as it makes them."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if re.search(r"/stream(\?|$)", request.url) else None)
    return seen


def test_an_instructor_follows_a_learner_live_and_steps_in(browser: Browser, site, artifacts):
    instructor_name, instructor_password = site.learner("teacher")
    site.shell(
        "from django.contrib.auth.models import User; from tutor.classrooms.services import make_instructor; "
        f"make_instructor(User.objects.get(username={instructor_name!r}))"
    )
    learner_name, learner_password = site.learner("student")
    printed = site.shell(
        f"from django.contrib.auth.models import User; print(User.objects.get(username={learner_name!r}).pk)"
    )
    learner_id = int(printed.split()[-1])  # the shell first says what it imported

    teaching = browser.new_context()
    learning = browser.new_context()
    try:
        # 1. The instructor creates a class in the page's form; the page shows its join code.
        teaching.add_init_script(COUNT_EVENT_SOURCES)
        dashboard = teaching.new_page()
        dashboard_streams = stream_requests(dashboard)
        log_in(dashboard, site, instructor_name, instructor_password)
        dashboard.get_by_role("link", name="Classrooms").click()
        dashboard.get_by_role("textbox", name="Name").fill("Kubernetes 101")
        dashboard.get_by_role("button", name="Create classroom").click()
        expect(dashboard.get_by_role("heading", name="Kubernetes 101")).to_be_visible()
        code = dashboard.locator("[data-join-code]").inner_text().strip()
        assert re.fullmatch(r"[A-Z2-9]{8}", code), code
        expect(dashboard.locator("#grid")).to_contain_text(f"give them the code {code}")
        mark_page(dashboard)

        # 2. A learner joins with the code and opens the first lesson; the dashboard, open all
        # along, gets their row and sees them reach the lesson's steps.
        learner = learning.new_page()
        log_in(learner, site, learner_name, learner_password)
        learner.get_by_role("link", name="Join a class").click()
        learner.get_by_label("Join code").fill(code.lower())  # as typed: the case does not matter
        learner.get_by_role("button", name="Join").click()
        expect(learner.locator(".flash-list")).to_contain_text("You joined Kubernetes 101")
        row = dashboard.locator(f"#row-{learner_id}")
        expect(row.locator("th")).to_have_text(learner_name, timeout=5_000)

        learner.goto(f"{site.url}/lessons/{LESSON}/")
        expect(learner.locator("#live-status")).to_have_attribute("data-state", "live", timeout=10_000)
        mark_page(learner)
        cell = row.locator(STEP_CELL)
        expect(cell).to_have_class(re.compile(r"\bstate-in-progress\b"), timeout=5_000)

        # 3. The learner passes the step; the dashboard shows it within a second of their page.
        learner.evaluate(WATCH_FOR, ["passed", f"#check-{STEP} .check-line.ok"])
        dashboard.evaluate(WATCH_FOR, ["passed", f"#row-{learner_id} {STEP_CELL}.state-passed"])
        step = learner.locator(f"#step-{STEP}")
        step.locator("input[value=spread]").check()
        step.get_by_role("button", name="Commit my prediction").click()
        learner.locator(f"#step-{STEP}").get_by_role("button", name="Apply to my sandbox").click()
        expect(learner.locator(f"#check-{STEP} .check-line.ok")).to_contain_text("Check passed", timeout=30_000)
        try:
            expect(cell).to_have_class(re.compile(r"\bstate-passed\b"), timeout=5_000)
        except AssertionError as missed:  # seen once in a whole run, never alone: say what was recorded
            recorded = site.shell(
                "from tutor.lessons.models import StepProgress; print(list(StepProgress.objects.filter("
                f"user_id={learner_id}, lesson={LESSON!r}, step={STEP!r}).values("
                "'passed_at', 'failing_since', 'last_message', 'updated_at')))"
            )
            raise AssertionError(
                f"{missed}\nthe learner's progress row: {recorded.strip()}\n"
                f"the dashboard's streams: {dashboard_streams}\nthe cell: {cell.get_attribute('title')}"
            ) from missed
        learner_saw = learner.evaluate("window.seenAt.passed")
        dashboard_saw = dashboard.evaluate("window.seenAt.passed")
        latency = dashboard_saw - learner_saw
        print(f"\ndashboard showed the pass {latency} ms after the learner's page")
        assert latency <= LATENCY_LIMIT_MS, f"the dashboard lagged the learner's page by {latency} ms"
        expect(learner.locator("#cluster .nodes .pod", has_text="welcome")).to_have_count(4)
        pods = row.locator("td.num").nth(1)  # the row's "Pods" column: running out of all
        expect(pods).to_have_text("4/4", timeout=5_000)
        assert same_page(dashboard), "the dashboard was reloaded or left"
        dashboard.screenshot(path=artifacts / "classroom-dashboard-en.png", full_page=True)
        assert cut_off_at_the_right(dashboard) == []  # the grid scrolls in its own box, not the page

        # 4. The instructor opens the learner's view (a second tab) and resets their sandbox: the
        # learner's page, still open, shows the cluster emptied.
        view = teaching.new_page()
        view.goto(site.url + row.locator("th a").get_attribute("href"))
        expect(view.get_by_role("heading", name=learner_name)).to_be_visible()
        expect(view.locator("#learner-live .nodes .pod", has_text="welcome")).to_have_count(4, timeout=5_000)
        view.on("dialog", lambda dialog: dialog.accept())
        view.get_by_role("button", name="Reset the learner's sandbox").click()
        expect(view.locator("#reset-flash")).to_contain_text("The learner's sandbox is fresh again.")
        expect(learner.locator("#cluster .nodes .pod")).to_have_count(0, timeout=10_000)
        expect(learner.locator(f"#check-{STEP} .check-line.was-ok")).to_be_visible(timeout=5_000)
        expect(view.locator("#learner-live .nodes .pod")).to_have_count(0, timeout=5_000)
        expect(pods).to_have_text("0/0", timeout=5_000)  # the row, swapped before, still follows
        expect(cell).to_have_class(re.compile(r"\bstate-passed\b"))  # a first pass counts for good

        # 5. The instructor sends a message from the learner's view; it shows on the learner's page.
        view.get_by_label("Text").fill("Nice work: now try kubectl scale.")
        view.get_by_role("button", name="Send").click()
        expect(view.locator("#message-form")).to_contain_text("Sent: it shows on the learner's page now.")
        newest = learner.locator("#class-messages .class-message.newest")
        expect(newest).to_contain_text("Nice work: now try kubectl scale.", timeout=5_000)
        expect(newest).to_contain_text(f"Message from {instructor_name}")
        assert same_page(learner), "the learner's page was reloaded or left"
        learner.screenshot(path=artifacts / "classroom-learner-message-en.png", full_page=False)

        # One event stream per dashboard tab, all along.
        assert same_page(dashboard)
        assert len(dashboard_streams) == 1, dashboard_streams
        assert re.search(r"/classrooms/\d+/stream\?", dashboard_streams[0]), dashboard_streams
        assert dashboard.evaluate("window.eventSourcesOpened") == 1
    finally:
        teaching.close()
        learning.close()
