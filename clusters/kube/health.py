"""The API server's health endpoints, `/healthz`, `/livez` and `/readyz`: named checks, answered
as upstream's healthz handler words them (k8s.io/apiserver pkg/server/healthz).

`GET /livez` says `ok`; `?verbose` lists each check (`[+]ping ok`) and ends with `livez check
passed`; `?exclude=<check>` skips one (`[+]etcd excluded: ok`). A failing check makes the answer
a 500 listing every check, the failure's reason withheld because the endpoint is public.
`GET /livez/<check>` runs one check and says `ok`; it is not public.

The checks are the ones that mean something here: `ping` (the server answers) and `etcd`, the
store's database, which plays etcd's part in the tutor's control plane.
"""

from __future__ import annotations

from dataclasses import dataclass

from clusters.objects.go_strconv import go_quote

CHECKS: dict[str, tuple[str, ...]] = {
    "healthz": ("ping", "etcd"),
    "livez": ("ping", "etcd"),
    "readyz": ("ping", "etcd"),
}
CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class HealthAnswer:
    status: int
    text: str


def health_report(
    endpoint: str, failures: dict[str, str], *, verbose: bool, excluded: list[str] | tuple[str, ...] = ()
) -> HealthAnswer:
    """The answer of `GET /<endpoint>`, given which checks failed (name → reason)."""
    lines: list[str] = []
    unknown = set(excluded)
    failed = False
    for name in CHECKS[endpoint]:
        if name in excluded:
            unknown.discard(name)
            lines.append(f"[+]{name} excluded: ok\n")
        elif name in failures:
            failed = True
            lines.append(f"[-]{name} failed: reason withheld\n")
        else:
            lines.append(f"[+]{name} ok\n")
    if unknown:
        names = ",".join(go_quote(name) for name in sorted(unknown))
        lines.append(f"warn: some health checks cannot be excluded: no matches for {names}\n")
    if failed:
        return HealthAnswer(500, "".join(lines) + f"{endpoint} check failed\n")
    if not verbose:
        return HealthAnswer(200, "ok")
    return HealthAnswer(200, "".join(lines) + f"{endpoint} check passed\n")
