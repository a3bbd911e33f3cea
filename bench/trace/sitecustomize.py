"""Task tracing for the benchmarks (put bench/trace on PYTHONPATH and set KUBE_TUTOR_BENCH_TRACE
to a file): every process appends one JSON line per Celery task published, started and finished,
with wall-clock times, the task's arguments and the thread CPU time it used, and one per call to
the Docker engine's API (method, path, start, end, thread). Nothing is changed in the app: only
Celery's signals are connected, and the Docker SDK's HTTP session is wrapped. With
KUBE_TUTOR_BENCH_TRACE_SQL set too, every database query is written as well (its statement's
start, start and end time, thread and process): the query-by-query view of one pod's path."""

import os

if os.environ.get("KUBE_TUTOR_BENCH_TRACE"):
    import json
    import threading
    import time

    _out = open(os.environ["KUBE_TUTOR_BENCH_TRACE"], "a", buffering=1)  # noqa: SIM115
    _lock = threading.Lock()

    def write(record: dict) -> None:
        """One line of the trace; every thread and tracer of the process writes through here."""
        with _lock:
            _out.write(json.dumps(record) + "\n")

    def _install() -> None:
        from celery.signals import before_task_publish, task_postrun, task_prerun

        started: dict[str, tuple[float, float]] = {}

        @before_task_publish.connect(weak=False)
        def published(sender=None, headers=None, body=None, **kwargs):
            headers = headers or {}
            args = body[0] if isinstance(body, tuple | list) and body else None
            eta = headers.get("eta")
            write({"e": "pub", "id": headers.get("id"), "task": sender, "args": args, "t": time.time(), "eta": eta})

        @task_prerun.connect(weak=False)
        def prerun(task_id=None, task=None, args=None, **kwargs):
            started[task_id] = (time.time(), time.thread_time())

        @task_postrun.connect(weak=False)
        def postrun(task_id=None, task=None, args=None, **kwargs):
            begun, cpu = started.pop(task_id, (None, 0.0))
            write(
                {
                    "e": "run",
                    "id": task_id,
                    "task": task.name if task else None,
                    "args": list(args or ()),
                    "start": begun,
                    "end": time.time(),
                    "cpu": time.thread_time() - cpu,
                }
            )

    def _docker_calls_install() -> None:
        import re

        try:
            from docker.api.client import APIClient
        except ImportError:
            return
        send = APIClient.send

        def traced(self, request, **kwargs):
            begun = time.time()
            try:
                return send(self, request, **kwargs)
            finally:
                # Ids and names vary per call; the path's shape is what groups calls.
                path = re.sub(r"^http\+docker://[^/]*|^https?://[^/]*", "", request.url).split("?")[0]
                path = re.sub(r"/v1\.\d+", "", path)
                path = re.sub(r"/(containers|networks|volumes|exec)/(?!json$|create$)[^/]+", r"/\1/{id}", path)
                end, thread = time.time(), threading.get_ident()
                write({"e": "docker", "m": request.method, "p": path, "start": begun, "end": end, "thread": thread})

        APIClient.send = traced

    def _queries_install() -> None:
        from django.db.backends.signals import connection_created

        process = os.getpid()

        def traced(execute, sql, params, many, context):
            begun = time.time()
            try:
                return execute(sql, params, many, context)
            finally:
                end, thread = time.time(), threading.get_ident()
                write({"e": "sql", "q": sql[:90], "start": begun, "end": end, "thread": thread, "pid": process})

        def wrap(sender=None, connection=None, **kwargs):
            # Sent at every reconnection of the same (per-thread) wrapper: wrap it once.
            if traced not in connection.execute_wrappers:
                connection.execute_wrappers.append(traced)

        connection_created.connect(wrap, weak=False)

    _install()
    _docker_calls_install()
    if os.environ.get("KUBE_TUTOR_BENCH_TRACE_SQL"):
        _queries_install()
