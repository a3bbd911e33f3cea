"""What the browser tests read of the YAML editor."""

# The line numbers of the lint gutter's markers, read from where they are drawn: each marker's
# gutter row is matched to the line-number gutter's row at the same height.
MARKER_LINES_JS = """() => {
  const numbers = [...document.querySelectorAll('.cm-lineNumbers .cm-gutterElement')]
    .filter(e => e.getBoundingClientRect().height > 0);
  return [...document.querySelectorAll('.cm-gutter-lint .cm-lint-marker')].map(marker => {
    const top = marker.closest('.cm-gutterElement').getBoundingClientRect().top;
    const row = numbers.find(e => Math.abs(e.getBoundingClientRect().top - top) < 1);
    return row ? Number(row.textContent) : null;
  }).sort((a, b) => a - b);
}"""


def wait_for_marker_lines(page, lines: list[int], timeout: float = 1000) -> None:
    page.wait_for_function(
        f"expected => JSON.stringify(({MARKER_LINES_JS})()) === JSON.stringify(expected)",
        arg=lines,
        timeout=timeout,
    )
