"""What a sandbox costs: how long creating one takes as a learner meets it, and what an idle one
keeps in memory and in the database.

A whole stack (web, worker, beat as `make run` starts them) on the simulated runtime. A learner
signs up over HTTP; then `--sandboxes` sandboxes are created one at a time through the REST API
(`POST /api/sandboxes/`, the learner's session and CSRF token), each timed from the request to
its 201 (the cluster's objects are stored: nodes, namespaces, the kube-system Services). Once
every sandbox's nodes are Ready and the stack has settled, the resident memory (VmRSS of web,
worker and beat with all their children, from /proc) and the database's size are read, and
compared with the same reading taken before the first sandbox: the difference per sandbox is
what an idle sandbox costs. kind takes 12-33 s to create a cluster and k3d about 20 s, and a
kind node container holds about 500 MB.

Usage: .venv/bin/python bench/sandbox_cost.py [--sandboxes 50] [--settle 15]. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import time
import urllib.parse

import psycopg
import requests
from harness import MachineLoad, add_stack_options, bench_stack, database_for, resident_kb, summary

from tests.system.stack import wait_for  # harness put the repository on sys.path


def database_bytes(stack) -> int:
    if stack.database_url:
        name = urllib.parse.urlsplit(stack.database_url).path.lstrip("/")
        with psycopg.connect(stack.database_url) as connection:
            return connection.execute("SELECT pg_database_size(%s)", (name,)).fetchone()[0]
    with sqlite3.connect(stack.var_dir / "db.sqlite3") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return (stack.var_dir / "db.sqlite3").stat().st_size


def ready_nodes(stack) -> int:
    """Nodes of every sandbox whose Ready condition is True, as the API would report them."""
    code = (
        "from clusters.models import StoredObject; "
        "print(sum(1 for b in StoredObject.objects.filter(kind='Node').values_list('body', flat=True) "
        "if any(c['type'] == 'Ready' and c['status'] == 'True' for c in b.get('status', {}).get('conditions', []))))"
    )
    return int(stack.manage("shell", "--no-imports", "-c", code).stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    add_stack_options(parser)
    parser.add_argument("--sandboxes", type=int, default=50)
    parser.add_argument("--settle", type=float, default=15.0, help="seconds to let the stack settle before reading")
    options = parser.parse_args()
    database = database_for(options.database, options.broker)
    with bench_stack(database=database, broker=options.broker, extra_env={"TUTOR_RUNTIME": "simulated"}) as bench:
        bench.static_collect()
        bench.start(workers=options.workers, concurrency=options.concurrency)
        url = f"http://127.0.0.1:{bench.port}"
        learner = requests.Session()
        page = learner.get(f"{url}/accounts/signup/", timeout=30)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if found is None:
            raise RuntimeError(f"the sign-up page: {page.status_code} {page.text[:500]}")
        token = found.group(1)
        signed_up = learner.post(
            f"{url}/accounts/signup/",
            data={
                "csrfmiddlewaretoken": token,
                "username": "bench",
                "password1": "bench-pass-1x",
                "password2": "bench-pass-1x",
            },
            timeout=30,
        )
        signed_up.raise_for_status()
        headers = {"X-CSRFToken": learner.cookies["csrftoken"]}
        time.sleep(options.settle)
        pids = [process.pid for _, process in bench.stack.processes]
        before = {"rss_kb": resident_kb(pids), "database_bytes": database_bytes(bench.stack)}

        load = MachineLoad()
        created = []
        for index in range(options.sandboxes):
            started = time.perf_counter()
            answer = learner.post(f"{url}/api/sandboxes/", json={"name": f"s{index:03d}"}, headers=headers, timeout=60)
            created.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 201:
                raise RuntimeError(f"creating sandbox {index}: {answer.status_code} {answer.text[:500]}")
        machine = load.report()
        nodes = 2 * options.sandboxes
        wait_for(lambda: ready_nodes(bench.stack) >= nodes, timeout=120 + options.sandboxes, what="every node Ready")
        time.sleep(options.settle)
        after = {"rss_kb": resident_kb(pids), "database_bytes": database_bytes(bench.stack)}

    print(
        json.dumps(
            {
                "benchmark": "sandbox_cost",
                "database": database,
                "broker": options.broker,
                "sandboxes": options.sandboxes,
                "sandbox_create_ms": summary(created),
                "memory_per_sandbox_kb": round((after["rss_kb"] - before["rss_kb"]) / options.sandboxes),
                "database_per_sandbox_kb": round(
                    (after["database_bytes"] - before["database_bytes"]) / 1024 / options.sandboxes
                ),
                "before": before,
                "after": after,
                "machine": machine,
            }
        )
    )


if __name__ == "__main__":
    main()
