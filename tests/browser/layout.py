"""How a page fits its window: what a learner on a phone, or an instructor beside a wide grid,
would find cut off."""

from __future__ import annotations

from playwright.sync_api import Page

# Elements past the window's right edge, leaving out what scrolls inside a box of its own (code
# blocks, the dashboard's grid); and whether the page itself scrolls sideways.
CUT_OFF_JS = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const scrolls = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(a).overflowX)) return true;
    }
    return false;
  };
  const cut = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > edge && !scrolls(e))
    .slice(0, 5)
    .map(e => `${e.tagName}.${e.className} ends at ${Math.round(e.getBoundingClientRect().right)} px`);
  const width = document.documentElement.scrollWidth;
  if (width > edge) cut.push(`the page is ${width} px wide`);
  return cut;
}"""


def cut_off_at_the_right(page: Page) -> list[str]:
    """What runs past the window's right edge (empty when the page fits)."""
    return page.evaluate(CUT_OFF_JS)
