from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from tutor.sandboxes.services import object_yaml

register = template.Library()

CELL_MARKS = {"passed": "✓", "stuck": "!", "in-progress": "•"}


@register.filter
def get_item(mapping, key):
    """`mapping|get_item:key`: a dictionary's value for a key that is itself a variable."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


@register.filter
def pretty_yaml(body) -> str:
    """An object as `kubectl get -o yaml` prints it, without managedFields."""
    return object_yaml(body) if isinstance(body, dict) else ""


@register.filter
def row_cells(row, step_titles) -> str:
    """A grid row's cells, drawn in Python: the same HTML as a template loop, for a fraction of
    its cost (a class of 50 has over 3,000 cells, the dashboard's main cost)."""
    cells = []
    for c in row.cells:
        title = f"{c.lesson} · {step_titles.get(c.key, '')}" + (f": {c.message}" if c.message else "")
        cells.append(
            f'<td class="cell state-{c.state}" data-step="{escape(c.key)}" title="{escape(title)}">'
            f"{CELL_MARKS.get(c.state, '')}"
            f'<span class="visually-hidden"> {c.state}</span></td>'
        )
    return mark_safe("".join(cells))  # noqa: S308 - every value above is escaped or one of ours
