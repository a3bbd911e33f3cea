"""The Kubernetes wire protocol: paths, views, discovery, OpenAPI, tables, protobuf, bodies, the
watch feed and the streams (exec, attach, port-forward). The object library it serves lives in
`clusters.objects`."""
