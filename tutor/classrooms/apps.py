from django.apps import AppConfig


class ClassroomsConfig(AppConfig):
    name = "tutor.classrooms"
    label = "classrooms"
    verbose_name = "Classrooms"
