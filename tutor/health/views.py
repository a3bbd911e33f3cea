from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tutor.health.services import health_report


@never_cache
@require_GET
def healthz(request):
    """200 while the site can serve (its database answers), 503 otherwise; the body says why."""
    report = health_report()
    return JsonResponse(report, status=200 if report["database"] == "ok" else 503)
