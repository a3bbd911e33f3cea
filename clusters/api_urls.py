from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from clusters import api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("sandboxes/", api.SandboxListApi.as_view(), name="api-sandboxes"),
    path("sandboxes/<slug:name>/", api.SandboxDetailApi.as_view(), name="api-sandbox"),
    path("sandboxes/<slug:name>/reset/", api.SandboxResetApi.as_view(), name="api-sandbox-reset"),
    path("sandboxes/<slug:name>/kubeconfig/", api.SandboxKubeconfigApi.as_view(), name="api-sandbox-kubeconfig"),
    path("sandboxes/<slug:name>/apply/", api.SandboxApplyApi.as_view(), name="api-sandbox-apply"),
]
