from django.urls import path, re_path

from clusters.kube.views import kube_api

# Each sandbox's Kubernetes API lives under its own prefix, with the token in the path for
# plain-http kubeconfigs or in the Authorization header (https, the Python client, scripts).
urlpatterns = [
    re_path(r"^k8s/(?P<sandbox_uid>[0-9a-f-]{32,36})/t/(?P<token>[A-Za-z0-9_-]+)/(?P<path>.*)$", kube_api),
    re_path(r"^k8s/(?P<sandbox_uid>[0-9a-f-]{32,36})/(?P<path>.*)$", kube_api),
    path("k8s/<str:sandbox_uid>/t/<str:token>", kube_api),
    path("k8s/<str:sandbox_uid>", kube_api),
]
