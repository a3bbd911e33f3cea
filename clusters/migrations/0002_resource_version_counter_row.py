from django.db import migrations


def create_counter(apps, schema_editor):
    apps.get_model("clusters", "ResourceVersionCounter").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    """The store's global resourceVersion counter is one row, there from the start."""

    dependencies = [("clusters", "0001_initial")]

    operations = [migrations.RunPython(create_counter, migrations.RunPython.noop)]
