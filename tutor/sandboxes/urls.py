from django.urls import path

from tutor.sandboxes import console_views, views

urlpatterns = [
    path("sandbox/", views.my_sandbox, name="my-sandbox"),
    path("sandboxes/<slug:name>/", views.sandbox_page, name="sandbox"),
    path("sandboxes/<slug:name>/cluster", views.cluster_part, name="sandbox-cluster"),
    path("sandboxes/<slug:name>/timeline", views.timeline_part, name="sandbox-timeline"),
    path("sandboxes/<slug:name>/stream", views.stream, name="sandbox-stream"),
    path("sandboxes/<slug:name>/apply", views.apply, name="sandbox-apply"),
    path("sandboxes/<slug:name>/delete", views.delete, name="sandbox-delete"),
    path("sandboxes/<slug:name>/reset", views.reset, name="sandbox-reset"),
    path("sandboxes/<slug:name>/connect", views.connect, name="sandbox-connect"),
    path("sandboxes/<slug:name>/faults/<slug:kind>", views.fault, name="sandbox-fault"),
    path(
        "sandboxes/<slug:name>/objects/<str:kind>/<str:namespace>/<str:object_name>",
        views.object_part,
        name="sandbox-object",
    ),
    path("sandboxes/<slug:name>/logs/<str:namespace>/<str:pod>", views.logs_part, name="sandbox-logs"),
    path("sandboxes/<slug:name>/console", console_views.console_run, name="sandbox-console"),
    path(
        "sandboxes/<slug:name>/console/<int:command_id>/stream",
        console_views.console_stream,
        name="sandbox-console-stream",
    ),
]
