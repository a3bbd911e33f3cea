import os

import pytest

from tests import services


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless, kept off the network (a browser download cannot work here)."""
    return {
        **browser_type_launch_args,
        "executable_path": services.chromium_path(),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def _collected_static(django_test_environment, tmp_path_factory):
    """Pages link static files through the production manifest storage, so collect them once
    (into a folder of this test process's own: parallel workers must not collect over each other)."""
    from django.conf import settings
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    """Each test counts its requests against the rate limits afresh (tutor.ratelimits), wherever
    the counters live (Redis keeps them between runs), so tests cannot use up each other's."""
    import uuid

    settings.RATE_LIMIT_NAMESPACE = f"test-{uuid.uuid4().hex[:12]}:"


# The compose stack's smoke test builds images and runs the whole stack: `make compose-smoke`
# runs it (CI does too), not every `make test`.
collect_ignore = [] if os.environ.get("TUTOR_COMPOSE_SMOKE") == "1" else ["compose"]
