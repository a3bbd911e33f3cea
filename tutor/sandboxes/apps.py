from django.apps import AppConfig


class SandboxesConfig(AppConfig):
    name = "tutor.sandboxes"
    label = "sandboxes"
    verbose_name = "Sandbox pages"
