from django.urls import path

from tutor.lessons import views

urlpatterns = [
    path("", views.index, name="lessons"),
    path("<slug:slug>/", views.lesson_page, name="lesson"),
    path("<slug:slug>/checks", views.checks_part, name="lesson-checks"),
    path("<slug:slug>/steps/<slug:step_id>/", views.step_part, name="lesson-step"),
    path("<slug:slug>/steps/<slug:step_id>/predict", views.step_predict, name="lesson-predict"),
    path("<slug:slug>/steps/<slug:step_id>/hint", views.step_hint, name="lesson-hint"),
    path("<slug:slug>/steps/<slug:step_id>/apply", views.step_apply, name="lesson-apply"),
    path("<slug:slug>/steps/<slug:step_id>/fault", views.step_fault, name="lesson-fault"),
]
