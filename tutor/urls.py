from django.contrib import admin
from django.urls import include, path

from tutor import views
from tutor.health.views import healthz

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("clusters.api_urls")),
    path("", include("clusters.urls")),
]
