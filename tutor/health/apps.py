from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "tutor.health"
    label = "health"
    verbose_name = "Health"
