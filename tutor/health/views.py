import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder

from clusters import monitoring
from tutor.health.services import health_report


@never_cache
@require_GET
def healthz(request):
    """200 while the site can serve (its database answers), 503 otherwise; the body says why."""
    report = health_report()
    return JsonResponse(report, status=200 if report["database"] == "ok" else 503)


def _may_scrape(request) -> bool:
    """Prometheus with TUTOR_METRICS_TOKEN as its bearer token, or a staff member's session."""
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if token and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    return request.user.is_authenticated and request.user.is_staff


@never_cache
@require_GET
def metrics(request):
    """This process's metrics and the database's gauges, in Prometheus' text format."""
    if not _may_scrape(request):
        return HttpResponse(
            "Metrics are for Prometheus (Authorization: Bearer $TUTOR_METRICS_TOKEN) or staff.\n",
            status=403,
            content_type="text/plain",
        )
    monitoring.web_registered()
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(REGISTRY), content_type=content_type)
