from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _instructors_group_ensure(sender, **kwargs) -> None:
    """After every migrate: the instructors' group exists and holds the classroom permissions
    (they are made by migrate itself, so this runs after it)."""
    from tutor.classrooms.services import instructors_group

    instructors_group()


class ClassroomsConfig(AppConfig):
    name = "tutor.classrooms"
    label = "classrooms"
    verbose_name = "Classrooms"

    def ready(self) -> None:
        post_migrate.connect(_instructors_group_ensure, sender=self)
