"""The simulated runtime's state moves out of NodeRuntimeState.state (jsonb) into a column of its
own, kept as compressed JSON (clusters.models.CompressedJSONField)."""

from django.db import migrations

import clusters.models


def runtime_out_of_state(apps, schema_editor):
    NodeRuntimeState = apps.get_model("clusters", "NodeRuntimeState")
    for row in NodeRuntimeState.objects.filter(state__has_key="runtime").iterator():
        row.runtime = row.state.pop("runtime")
        row.save(update_fields=["state", "runtime"])


def runtime_into_state(apps, schema_editor):
    NodeRuntimeState = apps.get_model("clusters", "NodeRuntimeState")
    for row in NodeRuntimeState.objects.filter(runtime__isnull=False).iterator():
        row.state = {**row.state, "runtime": row.runtime}
        row.runtime = None
        row.save(update_fields=["state", "runtime"])


class Migration(migrations.Migration):
    dependencies = [
        ("clusters", "0014_workitem_dirty_since"),
    ]

    operations = [
        migrations.AddField(
            model_name="noderuntimestate",
            name="runtime",
            field=clusters.models.CompressedJSONField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(runtime_out_of_state, runtime_into_state),
    ]
