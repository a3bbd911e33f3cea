"""The learner's app in real Chromium, against the whole app running as `make run` runs it.

A learner takes the Pods lesson from the first step to the last and sees the cluster change
without reloading; the editor shows an invalid manifest's error at its line; killing a container
shows the restart count rise; the console streams `kubectl get pods -w` and refuses what it must;
the pages read in Korean and English; the page says so and polls when its live stream breaks; a
guest keeps their progress when signing up. Screenshots are kept in var/artifacts/screenshots.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.editor import wait_for_marker_lines
from tests.browser.layout import cut_off_at_the_right

pytestmark = [pytest.mark.browser, pytest.mark.system, pytest.mark.xdist_group("learner-app")]


def log_in(page: Page, site, username: str, password: str) -> None:
    page.goto(f"{site.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".who")).to_have_text(username)


def pod_manifest(name: str) -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n"
        "spec:\n  containers:\n    - name: web\n      image: nginx\n"
    )


def apply_in_editor(page: Page, manifest: str) -> None:
    page.evaluate("text => document.getElementById('manifest-editor').kubeTutorEditor.setValue(text)", manifest)
    page.get_by_role("button", name="Apply", exact=True).click()


def mark_page(page: Page) -> None:
    """A marker that a reload or a navigation would wipe out."""
    page.evaluate("window.stillTheSamePage = true")


def same_page(page: Page) -> bool:
    return page.evaluate("window.stillTheSamePage === true")


def live(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=10_000)


def test_a_learner_completes_the_pods_lesson_live_without_reloading(page: Page, site, artifacts):
    log_in(page, site, *site.learner("ada"))
    page.goto(f"{site.url}/lessons/pods/")
    live(page)
    mark_page(page)

    first = page.locator("#step-first-pod")
    expect(first.get_by_role("button", name="Apply to my sandbox")).to_be_disabled()
    first.locator("input[value=running]").check()
    first.get_by_role("button", name="Commit my prediction").click()
    page.locator("#step-first-pod").get_by_role("button", name="Apply to my sandbox").click()
    expect(page.locator("#cluster .pod.ready .name", has_text=re.compile("^hello$"))).to_be_visible(timeout=20_000)
    expect(page.locator("#check-first-pod .check-line.ok")).to_contain_text("pod hello is Running and Ready")
    expect(page.locator("#check-first-pod .verdict.ok")).to_have_text("You predicted right.")

    second = page.locator("#step-two-containers")
    second.get_by_role("button", name="Apply to my sandbox").click()
    expect(page.locator("#check-two-containers .check-line.ok")).to_be_visible(timeout=20_000)

    page.locator("#step-more-pods").get_by_role("button", name="Apply to my sandbox").click()
    expect(page.locator("#check-more-pods .check-line.ok")).to_be_visible(timeout=20_000)

    last = page.locator("#step-delete-one")
    last.locator("input[value=comes-back]").check()
    last.get_by_role("button", name="Commit my prediction").click()
    page.locator("#step-delete-one").get_by_role("button", name="Run").first.click()
    expect(page.locator("#console-output")).to_contain_text('pod "hello-3" deleted', timeout=20_000)
    expect(page.locator("#check-delete-one .check-line.ok")).to_be_visible(timeout=20_000)
    expect(page.locator("#check-delete-one .verdict.bad")).to_contain_text("The answer:")
    expect(page.locator("#lesson-progress")).to_contain_text("4 of 4 checks passed")
    assert same_page(page), "the page was reloaded or left"
    page.screenshot(path=artifacts / "lesson-pods-en.png", full_page=True)

    page.get_by_role("tab", name="Timeline").click()
    timeline = page.locator("#timeline")
    expect(timeline.locator(".entry .actor", has_text="default-scheduler").first).to_be_visible()
    expect(timeline.locator(".entry .actor", has_text=re.compile("^kubelet/node-")).first).to_be_visible()
    expect(timeline.locator(".entry", has_text="page: apply").first).to_contain_text("lesson pods, step first-pod")
    page.get_by_label("Follow one object or component").fill("hello-3")
    shown = timeline.locator(".entry:visible")
    expect(shown.first).to_be_visible()
    assert all("hello-3" in text for text in shown.all_inner_texts())
    expect(timeline.locator(".entry:visible", has_text="replicaset-controller")).to_have_count(0)
    page.locator(".workspace").screenshot(path=artifacts / "timeline-en.png")

    # Progress is kept: the lessons list says so after a fresh load.
    page.goto(f"{site.url}/lessons/")
    pods = page.locator(".lesson-card", has=page.locator(".title", has_text=re.compile("^Pods$")))
    expect(pods).to_contain_text("Done")


def test_an_actions_answer_that_arrives_after_the_live_stream_does_not_undo_its_newer_check(page: Page, site):
    """Apply's answer (the step's block, its check judged when the request was served: the pod
    not scheduled yet, since the worker is frozen while it is served) is held back until the live
    stream has shown the pod Running and Ready; when it lands, the page keeps the newer verdict
    instead of going back to the older one."""
    log_in(page, site, *site.learner("lin"))
    page.goto(f"{site.url}/lessons/pods/")
    live(page)
    held = []
    page.route(re.compile(r"/lessons/pods/steps/first-pod/apply/?$"), lambda route: held.append((route, route.fetch())))
    first = page.locator("#step-first-pod")
    first.locator("input[value=running]").check()
    first.get_by_role("button", name="Commit my prediction").click()
    with site.stack.frozen("worker"):  # nothing reconciles until Apply's answer is judged
        page.locator("#step-first-pod").get_by_role("button", name="Apply to my sandbox").click()
        for _ in range(200):  # Playwright runs the route's handler while the test waits on the page
            if held:
                break
            page.wait_for_timeout(50)
    check = page.locator("#check-first-pod .check-line")
    expect(check).to_have_class(re.compile(r"\bok\b"), timeout=20_000)  # from the live stream
    assert len(held) == 1, "the apply request was not held"
    route, answer = held[0]
    answered = int(re.search(r'class="check-line waiting" data-version="(\d+)"', answer.text())[1])
    assert answered < int(check.get_attribute("data-version"))  # judged before what the page shows
    # The page asks for every check once after an action settles; held too, so what keeps the
    # newer verdict meanwhile is the page itself, not that answer.
    asked = []
    page.route(re.compile(r"/lessons/pods/checks$"), lambda route: asked.append(route))
    route.fulfill(response=answer)  # the older verdict arrives last
    expect(page.locator("#step-first-pod")).to_contain_text("pod/hello")  # the answer is in
    page.wait_for_timeout(300)  # and settled
    expect(check).to_have_class(re.compile(r"\bok\b"))
    expect(check).to_contain_text("pod hello is Running and Ready")
    assert asked, "the page did not ask for its checks after the action"
    for request in asked:
        request.continue_()


def test_an_invalid_manifest_shows_its_error_at_the_right_line(page: Page, site):
    log_in(page, site, *site.learner("grace"))
    page.goto(f"{site.url}/sandbox/")
    live(page)
    manifest = (
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata:\n"
        "  name: typo\n"
        "spec:\n"
        "  containers:\n"
        "    - name: web\n"
        "      imagee: nginx:1.27\n"
    )
    apply_in_editor(page, manifest)
    expect(page.locator("#apply-result")).to_contain_text('unknown field "spec.containers[0].imagee"')
    wait_for_marker_lines(page, [8], timeout=5_000)
    expect(page.locator("#cluster .pod")).to_have_count(0)  # nothing was stored


def test_killing_a_container_shows_the_restart_count_rise_live(page: Page, site, artifacts):
    log_in(page, site, *site.learner("linus"))
    page.goto(f"{site.url}/sandbox/")
    live(page)
    mark_page(page)
    apply_in_editor(page, pod_manifest("cache"))
    chip = page.locator("#cluster .pod", has_text="cache")
    expect(chip).to_have_class(re.compile(r"\bready\b"), timeout=20_000)
    expect(chip.locator(".restarts")).to_have_count(0)
    chip.get_by_role("button").click()
    page.locator("#detail").get_by_role("button", name="Kill container").click()
    expect(page.locator("#ws-flash")).to_contain_text("Killed a container of pod cache")
    expect(page.locator("#cluster .pod", has_text="cache").locator(".restarts")).to_have_text("↻1", timeout=20_000)
    expect(page.locator("#detail .containers td").nth(4)).to_have_text("1", timeout=10_000)
    assert same_page(page)
    page.screenshot(path=artifacts / "sandbox-en.png", full_page=True)


def test_the_console_streams_a_watch_and_refuses_config_and_plugins(page: Page, site):
    log_in(page, site, *site.learner("barbara"))
    page.goto(f"{site.url}/sandbox/")
    live(page)
    page.get_by_role("tab", name="Console").click()
    command = page.get_by_label("Command")
    command.fill("kubectl get pods -w")
    command.press("Enter")
    output = page.locator("#console-output")
    expect(output.get_by_role("button", name="Stop")).to_be_visible()
    page.wait_for_timeout(1_000)  # kubectl lists (nothing yet), then watches

    # Something else changes the cluster: the watch prints it as it happens.
    page.get_by_role("tab", name="Editor").click()
    apply_in_editor(page, pod_manifest("watched"))
    expect(output).to_contain_text("watched", timeout=15_000)
    expect(output.locator(".run").first.locator(".end")).to_have_count(0)  # still following
    page.get_by_role("tab", name="Console").click()
    output.get_by_role("button", name="Stop").click()

    command.fill("kubectl config view")
    command.press("Enter")
    expect(output.locator(".refused").last).to_contain_text("`kubectl config` is not available in this console")
    command.fill("kubectl krew install foo")
    command.press("Enter")
    expect(output.locator(".refused").last).to_contain_text("krew")
    expect(output.locator(".refused").last).to_contain_text("plugin")


def test_the_pages_read_in_korean_and_english(page: Page, site, artifacts):
    log_in(page, site, *site.learner("sejong"))
    page.goto(f"{site.url}/lessons/")
    expect(page.get_by_role("heading", name="Lessons", exact=True)).to_be_visible()
    page.get_by_role("button", name="한국어").click()
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", name="레슨", exact=True)).to_be_visible()
    page.goto(f"{site.url}/lessons/pods/")
    expect(page.get_by_role("heading", name="파드", exact=True)).to_be_visible()
    expect(page.locator("#step-first-pod")).to_contain_text("첫 번째 파드 실행하기")
    expect(page.locator("#check-first-pod")).to_contain_text("파드 hello")
    expect(page.get_by_role("tab", name="타임라인")).to_be_visible()
    live(page)
    page.screenshot(path=artifacts / "lesson-pods-ko.png", full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts / "lesson-pods-ko-phone.png", full_page=False)
    assert cut_off_at_the_right(page) == []
    page.goto(f"{site.url}/sandbox/")
    live(page)
    page.screenshot(path=artifacts / "sandbox-ko-phone.png", full_page=False)
    assert cut_off_at_the_right(page) == []
    page.goto(f"{site.url}/lessons/pods/")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Pods", exact=True)).to_be_visible()


def test_when_the_live_stream_breaks_the_page_says_so_and_polls(page: Page, site):
    log_in(page, site, *site.learner("edsger"))
    page.route(re.compile(r".*/stream(\?.*)?$"), lambda route: route.abort())
    page.goto(f"{site.url}/sandbox/")
    status = page.locator("#live-status")
    expect(status).to_have_attribute("data-state", "polling", timeout=10_000)
    expect(status).to_contain_text("refreshing every 3 s")
    mark_page(page)
    apply_in_editor(page, pod_manifest("polled"))
    expect(page.locator("#cluster .pod.ready", has_text="polled")).to_be_visible(timeout=20_000)
    assert same_page(page)


def test_a_guest_keeps_their_sandbox_and_progress_when_signing_up(page: Page, site):
    page.goto(site.url)
    page.get_by_role("button", name="Try it now, no account needed").click()
    expect(page.locator(".who")).to_have_text("Guest")
    page.goto(f"{site.url}/lessons/pods/")
    first = page.locator("#step-first-pod")
    first.locator("input[value=running]").check()
    first.get_by_role("button", name="Commit my prediction").click()
    page.locator("#step-first-pod").get_by_role("button", name="Apply to my sandbox").click()
    expect(page.locator("#check-first-pod .check-line.ok")).to_be_visible(timeout=20_000)

    page.get_by_role("link", name="Sign up to keep your work").click()
    page.get_by_label("Username").fill("hopper")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".who")).to_have_text("hopper")
    page.goto(f"{site.url}/lessons/pods/")
    expect(page.locator("#check-first-pod .check-line.ok")).to_be_visible()
    expect(page.locator("#cluster .pod", has_text="hello")).to_be_visible()
    expect(page.locator("#step-first-pod")).to_contain_text("Your prediction:")
