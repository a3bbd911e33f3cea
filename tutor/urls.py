from django.contrib import admin
from django.urls import include, path

from tutor import views
from tutor.health.views import healthz, metrics

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("tutor.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("lessons/", include("tutor.lessons.urls")),
    path("classrooms/", include("tutor.classrooms.urls")),
    path("", include("tutor.sandboxes.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("clusters.api_urls")),
    path("", include("clusters.urls")),
]
