"""The Kubernetes object library under the store.

What an object *is*, independent of how it travels: the resources served (`resources`), their
schemas (`schema`), defaults and validation, label selectors, the patch formats and the
three-way merge of `kubectl apply`, and the small value types objects carry (quantities, cron
schedules, Go durations, RFC 3339 times). Nothing here knows about HTTP; the wire protocol
(`clusters.kube`) and the store sit above it.
"""
