from django.urls import path

from tutor.classrooms import views

urlpatterns = [
    path("join/", views.join, name="classroom-join"),
    path("join/<str:code>/", views.join, name="classroom-join-code"),
    path("", views.classroom_list, name="classrooms"),
    path("<int:classroom_id>/", views.dashboard, name="classroom"),
    path("<int:classroom_id>/stream", views.dashboard_stream, name="classroom-stream"),
    path("<int:classroom_id>/progress.csv", views.export_csv, name="classroom-export"),
    path("<int:classroom_id>/lessons/<slug:slug>/lock", views.lesson_lock, name="classroom-lock"),
    path("<int:classroom_id>/pod-security", views.pod_security, name="classroom-pod-security"),
    path("<int:classroom_id>/learners/<int:learner_id>/", views.learner, name="classroom-learner"),
    path("<int:classroom_id>/learners/<int:learner_id>/stream", views.learner_stream, name="classroom-learner-stream"),
    path("<int:classroom_id>/learners/<int:learner_id>/reset", views.learner_reset, name="classroom-learner-reset"),
    path(
        "<int:classroom_id>/learners/<int:learner_id>/message", views.learner_message, name="classroom-learner-message"
    ),
]
