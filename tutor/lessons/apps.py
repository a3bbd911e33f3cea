from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "tutor.lessons"
    label = "lessons"
    verbose_name = "Lessons"

    def ready(self) -> None:
        # Load and check every lesson now: a broken lesson file stops the site from starting
        # (with the file and the problem) instead of failing in front of a learner.
        from tutor.lessons.loader import catalog

        catalog()
