"""The vendored YAML editor bundle (static/vendor/editor/editor.js) in real Chromium.

The page is built here, not served by Django: what is tested is the bundle's own contract with
the pages that will use it (a textarea it keeps in sync, diagnostics, themes, the keyboard).
"""

import html
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.editor import wait_for_marker_lines

pytestmark = pytest.mark.browser

BUNDLE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "editor" / "editor.js"

MANIFEST = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"


def open_editor(page: Page, text: str = MANIFEST):
    page.set_content(
        "<form id=f><label for=m>Manifest</label>"
        f"<textarea id=m name=manifest data-editor=yaml>{html.escape(text)}</textarea>"
        "<button id=after type=button>Apply</button></form>"
    )
    page.add_script_tag(path=str(BUNDLE))
    page.evaluate("KubeTutorEditor.mountAll()")
    return page.locator(".cm-content")


def set_server_diagnostics(page: Page, diagnostics: list[dict]) -> None:
    page.evaluate(f"document.getElementById('m').kubeTutorEditor.setDiagnostics({json.dumps(diagnostics)})")


def test_the_bundle_loads_offline_and_mounts_once(page: Page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    open_editor(page)
    page.evaluate("KubeTutorEditor.mountAll(); KubeTutorEditor.mountAll()")
    expect(page.locator(".cm-editor")).to_have_count(1)
    expect(page.locator("#m")).to_be_hidden()
    assert page.evaluate("document.getElementById('m').kubeTutorEditor === KubeTutorEditor.mount(m)")
    assert requests == []


def test_typing_updates_the_textarea_and_fires_input_events(page: Page):
    content = open_editor(page)
    page.evaluate("window.inputs = 0; m.addEventListener('input', () => window.inputs++)")
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("# note")
    expect(page.locator("#m")).to_have_value(MANIFEST + "# note")
    assert page.evaluate("window.inputs") == len("# note")
    assert page.evaluate("new FormData(document.getElementById('f')).get('manifest')") == MANIFEST + "# note"


def test_mount_with_on_change_and_set_value_that_undo_takes_back(page: Page):
    page.set_content("<textarea id=t aria-label='Pod manifest'>a: 1</textarea>")
    page.add_script_tag(path=str(BUNDLE))
    page.evaluate("window.seen = []; window.ed = KubeTutorEditor.mount(t, {onChange: text => seen.push(text)})")
    expect(page.get_by_role("textbox", name="Pod manifest", exact=True)).to_be_visible()
    page.evaluate("ed.setValue('b: 2\\n')")
    assert page.evaluate("[ed.getValue(), t.value, seen]") == ["b: 2\n", "b: 2\n", ["b: 2\n"]]
    page.evaluate("ed.focus()")
    page.keyboard.press("Control+z")
    expect(page.locator("#t")).to_have_value("a: 1")


def test_a_syntax_error_is_shown_at_its_line_within_a_second(page: Page):
    content = open_editor(page, "metadata:\n  name: web\n")
    wait_for_marker_lines(page, [])
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" labels: {}")  # one space: neither under metadata nor beside it
    wait_for_marker_lines(page, [3], timeout=1000)
    expect(content).to_have_accessible_description(re.compile(r"Line 3, error: All mapping items must start at"))
    # Fixing the indentation clears it.
    page.keyboard.press("Home")
    page.keyboard.type(" ")
    wait_for_marker_lines(page, [], timeout=1000)


def test_server_diagnostics_show_on_their_line_with_the_message_and_go_at_the_next_edit(page: Page):
    content = open_editor(page)
    message = "spec.containers[0].image: Required value"
    set_server_diagnostics(page, [{"line": 2, "message": message}])
    wait_for_marker_lines(page, [2])
    expect(content).to_have_accessible_description(re.compile(re.escape(f"Line 2, error: {message}")))
    page.locator(".cm-line").nth(1).locator(".cm-lintRange-error").hover()
    expect(page.locator(".cm-tooltip-lint")).to_contain_text(message)

    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("x")
    wait_for_marker_lines(page, [])
    expect(content).not_to_have_accessible_description(re.compile(re.escape(message)))


def test_server_and_syntax_diagnostics_do_not_erase_each_other(page: Page):
    open_editor(page, "a:\n  b: 1\n c: 2\nd: 4\n")
    wait_for_marker_lines(page, [3])  # the syntax check's
    set_server_diagnostics(page, [{"line": 4, "column": 4, "message": "first", "severity": "warning"}])
    wait_for_marker_lines(page, [3, 4])
    expect(page.locator(".cm-lintRange-warning")).to_have_text("4")  # from its column to the line's end
    set_server_diagnostics(page, [{"line": 99, "message": "past the end"}])  # replaces "first", clamped
    wait_for_marker_lines(page, [3, 5])
    set_server_diagnostics(page, [])
    wait_for_marker_lines(page, [3])


def test_the_theme_follows_data_theme_and_the_system_scheme_live(page: Page):
    open_editor(page)
    background = "getComputedStyle(document.querySelector('.cm-editor')).backgroundColor"
    light = page.evaluate(background)
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    page.wait_for_function(f"{background} !== {json.dumps(light)}")
    dark = page.evaluate(background)
    page.evaluate("document.documentElement.dataset.theme = 'light'")
    page.wait_for_function(f"{background} === {json.dumps(light)}")
    # Without data-theme the system's preference decides, and a change to it applies at once.
    page.evaluate("delete document.documentElement.dataset.theme")
    page.emulate_media(color_scheme="dark")
    page.wait_for_function(f"{background} === {json.dumps(dark)}")
    page.emulate_media(color_scheme="light")
    page.wait_for_function(f"{background} === {json.dumps(light)}")


def test_the_editor_is_named_by_the_label_and_the_label_focuses_it(page: Page):
    content = open_editor(page)
    expect(content).to_have_accessible_name("Manifest")
    expect(page.get_by_role("textbox", name="Manifest", exact=True)).to_have_count(1)
    page.get_by_text("Manifest", exact=True).click()
    expect(content).to_be_focused()


def test_tab_indents_and_escape_then_tab_leaves_the_editor(page: Page):
    content = open_editor(page)
    content.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Tab")
    expect(content).to_be_focused()
    expect(page.locator("#m")).to_have_value(MANIFEST + "  ")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    expect(page.locator("#after")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(content).to_be_focused()


def test_editors_swapped_in_later_come_alive_on_htmx_after_settle(page: Page):
    open_editor(page)
    page.evaluate(
        """() => {
          document.body.insertAdjacentHTML('beforeend',
            '<div id=swapped><label>Second <textarea data-editor=yaml>kind: Service</textarea></label></div>');
          document.getElementById('swapped').dispatchEvent(new CustomEvent('htmx:afterSettle', {bubbles: true}));
        }"""
    )
    expect(page.get_by_role("textbox", name="Second", exact=True)).to_contain_text("kind: Service")
    expect(page.locator(".cm-editor")).to_have_count(2)
