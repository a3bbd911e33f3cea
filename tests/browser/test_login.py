"""The pages in real Chromium (Debian's, driven by Playwright)."""

import pytest
from playwright.sync_api import Page, expect

from tutor.classrooms.demo import demo_accounts_ensure

pytestmark = pytest.mark.browser


def test_a_learner_logs_in_with_a_demo_account_and_lands_on_the_lessons(page: Page, live_server):
    demo_accounts_ensure()
    page.goto(live_server.url)
    page.get_by_role("link", name="Log in to start").click()
    page.get_by_label("Username").fill("learner1")
    page.get_by_label("Password").fill("learner-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Lessons", exact=True)).to_be_visible()
    expect(page.locator(".who")).to_have_text("learner1")
    page.goto(live_server.url)
    expect(page.locator(".welcome")).to_have_text("Welcome, learner1.")


def test_a_wrong_password_is_refused_with_a_readable_message(page: Page, live_server):
    demo_accounts_ensure()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("learner1")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.locator(".welcome")).to_have_count(0)
