from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def step_words(text, step_id: str):
    """A step's words in the lesson text of the page's language."""
    return text.steps[step_id]


@register.filter
def choice_html(words, choice_id: str) -> str:
    return next((c.html for c in words.choices if c.id == choice_id), "")


@register.filter
def fault_label(fault) -> str:
    """The words on a step's fault button."""
    options = fault.options
    if fault.kind == "kill-container":
        return _("Kill a container of %(pod)s") % {"pod": options.get("pod") or options.get("selector", "")}
    if fault.kind == "stop-kubelet":
        return _("Stop the kubelet of %(node)s") % {"node": options.get("node", "")}
    if fault.kind == "start-kubelet":
        return _("Start the kubelet of %(node)s") % {"node": options.get("node", "")}
    return _("Break the image of %(kind)s %(name)s") % {
        "kind": options.get("kind", ""),
        "name": options.get("name", ""),
    }


@register.filter
def lesson_title(lesson) -> str:
    return lesson.text(get_language() or "en").title
