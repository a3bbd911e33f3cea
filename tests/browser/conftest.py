import os

# Playwright's sync API runs an event loop in the test's thread; the test's own database calls
# (seeding accounts) are still plain synchronous calls, so Django's async-safety guard is lifted.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
