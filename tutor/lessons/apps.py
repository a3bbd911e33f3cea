from django.apps import AppConfig
from django.core import checks


class LessonsConfig(AppConfig):
    name = "tutor.lessons"
    label = "lessons"
    verbose_name = "Lessons"

    def ready(self) -> None:
        checks.register(lessons_load_check)


def lessons_load_check(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Load and check every lesson: a broken lesson file stops `manage.py check` and `migrate` (so
    `make run` and the compose stack's start) with the file and the problem, instead of failing in
    front of a learner. The web loads them too before it serves (tutor/asgi.py); workers, beat and
    `manage.py shell` load them only if they use them, which saves each start the second it takes."""
    from tutor.lessons.loader import LessonError, catalog

    try:
        catalog()
    except LessonError as error:
        hint = "tutor/lessons/content/README.md describes the format"
        return [checks.Error(str(error), hint=hint, id="lessons.E001")]
    return []
