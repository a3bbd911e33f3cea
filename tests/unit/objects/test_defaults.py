"""Server-side defaults: the Kubernetes documentation's example manifests must come out exactly as a
1.37 apiserver stores them (what `kubectl get -o yaml` shows, less the metadata and status the
store adds).
"""

import copy

import pytest

from clusters.objects.defaults import (
    apply_create_defaults,
    apply_defaults,
    default_pull_policy,
    job_selector_defaults,
    pod_admission_defaults,
)
from clusters.objects.resources import resource_for_kind


def resource(manifest):
    return resource_for_kind(manifest["apiVersion"], manifest["kind"])


def defaulted(manifest):
    return apply_defaults(manifest, resource(manifest))


# Container defaults every defaulted container gains.
CONTAINER_DEFAULTS = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "resources": {},
}
# PodSpec defaults, for pods and pod templates alike.
POD_SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
    "schedulerName": "default-scheduler",
}

# --- The documentation's examples ------------------------------------------------------------

NGINX_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "nginx-deployment", "namespace": "default", "labels": {"app": "nginx"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}]},
        },
    },
}

MY_SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "my-service", "namespace": "default"},
    "spec": {
        "selector": {"app.kubernetes.io/name": "MyApp"},
        "ports": [{"protocol": "TCP", "port": 80, "targetPort": 9376}],
    },
}

PI_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "pi", "namespace": "default"},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "pi",
                        "image": "perl:5.34.0",
                        "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
                    }
                ],
                "restartPolicy": "Never",
            }
        },
        "backoffLimit": 4,
    },
}

WEB_STATEFULSET = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "nginx"}},
        "serviceName": "nginx",
        "replicas": 3,
        "minReadySeconds": 10,
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {
                "terminationGracePeriodSeconds": 10,
                "containers": [
                    {
                        "name": "nginx",
                        "image": "registry.k8s.io/nginx-slim:0.24",
                        "ports": [{"containerPort": 80, "name": "web"}],
                        "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}],
                    }
                ],
            },
        },
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "www"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "my-storage-class",
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ],
    },
}

FLUENTD_DAEMONSET = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "fluentd-elasticsearch", "namespace": "kube-system", "labels": {"k8s-app": "fluentd-logging"}},
    "spec": {
        "selector": {"matchLabels": {"name": "fluentd-elasticsearch"}},
        "template": {
            "metadata": {"labels": {"name": "fluentd-elasticsearch"}},
            "spec": {
                "tolerations": [
                    {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
                    {"key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule"},
                ],
                "containers": [
                    {
                        "name": "fluentd-elasticsearch",
                        "image": "quay.io/fluentd_elasticsearch/fluentd:v5.0.1",
                        "resources": {"limits": {"memory": "200Mi"}, "requests": {"cpu": "100m", "memory": "200Mi"}},
                        "volumeMounts": [{"name": "varlog", "mountPath": "/var/log"}],
                    }
                ],
                "terminationGracePeriodSeconds": 30,
                "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}],
            },
        },
    },
}

HELLO_CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "hello", "namespace": "default"},
    "spec": {
        "schedule": "* * * * *",
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "hello",
                                "image": "busybox:1.28",
                                "imagePullPolicy": "IfNotPresent",
                                "command": ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"],
                            }
                        ],
                        "restartPolicy": "OnFailure",
                    }
                }
            }
        },
    },
}

TWO_CONTAINERS_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "two-containers", "namespace": "default"},
    "spec": {
        "restartPolicy": "Never",
        "volumes": [{"name": "shared-data", "emptyDir": {}}],
        "containers": [
            {
                "name": "nginx-container",
                "image": "nginx",
                "volumeMounts": [{"name": "shared-data", "mountPath": "/usr/share/nginx/html"}],
            },
            {
                "name": "debian-container",
                "image": "debian",
                "volumeMounts": [{"name": "shared-data", "mountPath": "/pod-data"}],
                "command": ["/bin/sh"],
                "args": ["-c", "echo Hello from the debian container > /pod-data/index.html"],
            },
        ],
    },
}

TASK_PV_CLAIM = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "task-pv-claim", "namespace": "default"},
    "spec": {
        "storageClassName": "manual",
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "3Gi"}},
    },
}

# content/en/examples/controllers/replication.yaml
NGINX_REPLICATION_CONTROLLER = {
    "apiVersion": "v1",
    "kind": "ReplicationController",
    "metadata": {"name": "nginx", "namespace": "default"},
    "spec": {
        "replicas": 3,
        "selector": {"app": "nginx"},
        "template": {
            "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}]},
        },
    },
}

DOC_EXAMPLES = [
    NGINX_DEPLOYMENT,
    NGINX_REPLICATION_CONTROLLER,
    MY_SERVICE,
    PI_JOB,
    WEB_STATEFULSET,
    FLUENTD_DAEMONSET,
    HELLO_CRONJOB,
    TWO_CONTAINERS_POD,
    TASK_PV_CLAIM,
]

# --- What a 1.37 apiserver stores for them ---------------------------------------------------

EXPECTED = {
    "Deployment": {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx-deployment", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.14.2",
                            "imagePullPolicy": "IfNotPresent",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            **CONTAINER_DEFAULTS,
                        }
                    ],
                    **POD_SPEC_DEFAULTS,
                },
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
    },
    # Without labels of its own, it takes its template's.
    "ReplicationController": {
        "apiVersion": "v1",
        "kind": "ReplicationController",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 3,
            "selector": {"app": "nginx"},
            "template": {
                "metadata": {"name": "nginx", "labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx",
                            "imagePullPolicy": "Always",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                            **CONTAINER_DEFAULTS,
                        }
                    ],
                    **POD_SPEC_DEFAULTS,
                },
            },
        },
    },
    "Service": {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "my-service", "namespace": "default"},
        "spec": {
            "selector": {"app.kubernetes.io/name": "MyApp"},
            "ports": [{"protocol": "TCP", "port": 80, "targetPort": 9376}],
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "ipFamilyPolicy": "SingleStack",
            "ipFamilies": ["IPv4"],
        },
    },
    "Job": {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {
            "template": {
                "metadata": {},
                "spec": {
                    "containers": [
                        {
                            "name": "pi",
                            "image": "perl:5.34.0",
                            "command": ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"],
                            "imagePullPolicy": "IfNotPresent",
                            **CONTAINER_DEFAULTS,
                        }
                    ],
                    **POD_SPEC_DEFAULTS,
                    "restartPolicy": "Never",
                },
            },
            "backoffLimit": 4,
            "completions": 1,
            "parallelism": 1,
            "completionMode": "NonIndexed",
            "suspend": False,
            "podReplacementPolicy": "TerminatingOrFailed",
            "manualSelector": False,
        },
    },
    "StatefulSet": {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "nginx"}},
            "serviceName": "nginx",
            "replicas": 3,
            "minReadySeconds": 10,
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "registry.k8s.io/nginx-slim:0.24",
                            "imagePullPolicy": "IfNotPresent",
                            "ports": [{"containerPort": 80, "name": "web", "protocol": "TCP"}],
                            "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}],
                            **CONTAINER_DEFAULTS,
                        }
                    ],
                    **POD_SPEC_DEFAULTS,
                    "terminationGracePeriodSeconds": 10,
                },
            },
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "www"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "my-storage-class",
                        "resources": {"requests": {"storage": "1Gi"}},
                        "volumeMode": "Filesystem",
                    },
                    "status": {"phase": "Pending"},
                }
            ],
            "podManagementPolicy": "OrderedReady",
            # maxUnavailable: the MaxUnavailableStatefulSet gate is beta (on) since 1.35.
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 1}},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "revisionHistoryLimit": 10,
        },
    },
    "DaemonSet": {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "fluentd-elasticsearch",
            "namespace": "kube-system",
            "labels": {"k8s-app": "fluentd-logging"},
        },
        "spec": {
            "selector": {"matchLabels": {"name": "fluentd-elasticsearch"}},
            "template": {
                "metadata": {"labels": {"name": "fluentd-elasticsearch"}},
                "spec": {
                    "tolerations": [
                        {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
                        {"key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule"},
                    ],
                    "containers": [
                        {
                            "name": "fluentd-elasticsearch",
                            "image": "quay.io/fluentd_elasticsearch/fluentd:v5.0.1",
                            "imagePullPolicy": "IfNotPresent",
                            "volumeMounts": [{"name": "varlog", "mountPath": "/var/log"}],
                            **CONTAINER_DEFAULTS,
                            "resources": {
                                "limits": {"memory": "200Mi"},
                                "requests": {"cpu": "100m", "memory": "200Mi"},
                            },
                        }
                    ],
                    **POD_SPEC_DEFAULTS,
                    "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log", "type": ""}}],
                },
            },
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
        },
    },
    "CronJob": {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {
            "schedule": "* * * * *",
            "concurrencyPolicy": "Allow",
            "suspend": False,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            # Only the pod template is defaulted: SetDefaults_Job is for Jobs, not job templates.
            "jobTemplate": {
                "metadata": {},
                "spec": {
                    "template": {
                        "metadata": {},
                        "spec": {
                            "containers": [
                                {
                                    "name": "hello",
                                    "image": "busybox:1.28",
                                    "imagePullPolicy": "IfNotPresent",
                                    "command": ["/bin/sh", "-c", "date; echo Hello from the Kubernetes cluster"],
                                    **CONTAINER_DEFAULTS,
                                }
                            ],
                            **POD_SPEC_DEFAULTS,
                            "restartPolicy": "OnFailure",
                        },
                    }
                },
            },
        },
    },
    "Pod": {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "two-containers", "namespace": "default"},
        "spec": {
            "volumes": [{"name": "shared-data", "emptyDir": {}}],
            "containers": [
                {
                    "name": "nginx-container",
                    "image": "nginx",
                    # No tag means `latest`, which is always pulled.
                    "imagePullPolicy": "Always",
                    "volumeMounts": [{"name": "shared-data", "mountPath": "/usr/share/nginx/html"}],
                    **CONTAINER_DEFAULTS,
                },
                {
                    "name": "debian-container",
                    "image": "debian",
                    "imagePullPolicy": "Always",
                    "volumeMounts": [{"name": "shared-data", "mountPath": "/pod-data"}],
                    "command": ["/bin/sh"],
                    "args": ["-c", "echo Hello from the debian container > /pod-data/index.html"],
                    **CONTAINER_DEFAULTS,
                },
            ],
            **POD_SPEC_DEFAULTS,
            "restartPolicy": "Never",
            "enableServiceLinks": True,
        },
    },
    "PersistentVolumeClaim": {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "task-pv-claim", "namespace": "default"},
        "spec": {
            "storageClassName": "manual",
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "3Gi"}},
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Pending"},
    },
}


@pytest.mark.parametrize("manifest", DOC_EXAMPLES, ids=lambda manifest: manifest["kind"])
def test_it_fills_in_exactly_the_defaults_a_real_api_server_stores_for_the_documentation_examples(manifest):
    assert defaulted(manifest) == EXPECTED[manifest["kind"]]


@pytest.mark.parametrize("manifest", DOC_EXAMPLES, ids=lambda manifest: manifest["kind"])
def test_defaulting_twice_changes_nothing_and_leaves_the_input_alone(manifest):
    before = copy.deepcopy(manifest)
    once = defaulted(manifest)
    assert defaulted(once) == once
    assert manifest == before


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.k8s.io/pause:3.9", "IfNotPresent"),
        ("localhost:5000/team/app", "Always"),
        ("localhost:5000/team/app:v2", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("Nginx", "IfNotPresent"),  # unparseable: upstream falls back to IfNotPresent
        ("", "IfNotPresent"),
    ],
)
def test_it_pulls_always_only_for_latest_or_untagged_images(image, policy):
    assert default_pull_policy(image) == policy


def test_an_explicit_pull_policy_is_kept():
    pod = copy.deepcopy(TWO_CONTAINERS_POD)
    pod["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    assert defaulted(pod)["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_a_pod_gets_requests_from_its_limits_but_a_template_does_not():
    container = {"name": "app", "image": "app:1", "resources": {"limits": {"cpu": "0.5", "memory": "128Mi"}}}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [container]}}
    deployment = copy.deepcopy(NGINX_DEPLOYMENT)
    deployment["spec"]["template"]["spec"]["containers"] = [container]

    pod_resources = defaulted(pod)["spec"]["containers"][0]["resources"]
    template = defaulted(deployment)["spec"]["template"]

    assert pod_resources == {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "500m", "memory": "128Mi"},
    }
    assert template["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m", "memory": "128Mi"}}
    assert "enableServiceLinks" not in template["spec"]


@pytest.mark.parametrize(
    ("written", "stored"),
    [("0.5", "500m"), (1, "1"), (0.25, "250m"), ("1024Mi", "1Gi"), ("1.5Gi", "1536Mi"), ("100u", "1m"), ("2e3", "2e3")],
)
def test_it_stores_resource_quantities_in_canonical_form_rounded_to_milli_units(written, stored):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "a:1", "resources": {"requests": {"cpu": written}}}]},
    }
    assert defaulted(pod)["spec"]["containers"][0]["resources"]["requests"]["cpu"] == stored


def test_probe_and_volume_defaults_match_upstream():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx:1.25",
                    "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "livenessProbe": {"httpGet": {"port": 80}},
                    "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
                }
            ],
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config"}},
                {"name": "creds", "secret": {"secretName": "web-creds"}},
                {"name": "scratch"},
                {
                    "name": "info",
                    "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
                },
            ],
        },
    }
    spec = defaulted(pod)["spec"]
    container = spec["containers"][0]

    assert container["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert container["readinessProbe"] == {
        "grpc": {"port": 9000, "service": ""},
        "periodSeconds": 5,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert container["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "metadata.name", "apiVersion": "v1"}
    assert spec["volumes"] == [
        {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
        {"name": "creds", "secret": {"secretName": "web-creds", "defaultMode": 420}},
        {"name": "scratch", "emptyDir": {}},
        {
            "name": "info",
            "downwardAPI": {
                "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v1"}}],
                "defaultMode": 420,
            },
        },
    ]


def test_a_pod_on_the_host_network_gets_host_ports_equal_to_its_container_ports():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "hostNetwork": True,
            "containers": [{"name": "a", "image": "a:1", "ports": [{"containerPort": 8080}]}],
        },
    }
    assert defaulted(pod)["spec"]["containers"][0]["ports"] == [
        {"containerPort": 8080, "protocol": "TCP", "hostPort": 8080}
    ]


def test_a_service_port_without_target_port_targets_the_same_port():
    service = copy.deepcopy(MY_SERVICE)
    service["spec"]["ports"] = [{"port": 8080, "name": "http"}]
    assert defaulted(service)["spec"]["ports"] == [
        {"port": 8080, "name": "http", "protocol": "TCP", "targetPort": 8080}
    ]


def test_a_node_port_service_gets_the_cluster_external_traffic_policy():
    service = copy.deepcopy(MY_SERVICE)
    service["spec"]["type"] = "NodePort"
    spec = defaulted(service)["spec"]
    assert (spec["externalTrafficPolicy"], spec["internalTrafficPolicy"]) == ("Cluster", "Cluster")


def test_a_load_balancer_allocates_node_ports_by_default():
    service = copy.deepcopy(MY_SERVICE)
    service["spec"]["type"] = "LoadBalancer"
    assert defaulted(service)["spec"]["allocateLoadBalancerNodePorts"] is True


def test_client_ip_affinity_gets_a_three_hour_timeout():
    service = copy.deepcopy(MY_SERVICE)
    service["spec"]["sessionAffinity"] = "ClientIP"
    assert defaulted(service)["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_a_headless_service_without_selector_requires_dual_stack_like_the_allocator_decides():
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db"},
        "spec": {"clusterIP": "None", "ports": [{"port": 5432}]},
    }
    spec = defaulted(service)["spec"]
    assert spec["clusterIPs"] == ["None"]
    assert (spec["ipFamilyPolicy"], spec["ipFamilies"]) == ("RequireDualStack", ["IPv4", "IPv6"])


def test_an_external_name_service_gets_no_ip_families():
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db"},
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    assert defaulted(service)["spec"] == {
        "type": "ExternalName",
        "externalName": "db.example.com",
        "sessionAffinity": "None",
    }


def test_a_namespace_is_labelled_with_its_name_finalized_by_kubernetes_and_active():
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "teach"}}
    assert defaulted(namespace) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "teach", "labels": {"kubernetes.io/metadata.name": "teach"}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def test_a_secret_is_opaque_and_its_string_data_is_folded_into_data():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"user": "YWRtaW4="},
        "stringData": {"password": "s3cr3t"},
    }
    assert defaulted(secret) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "data": {"user": "YWRtaW4=", "password": "czNjcjN0"},
        "type": "Opaque",
    }


def test_a_persistent_volume_is_retained_and_pending():
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "task-pv-volume"},
        "spec": {
            "storageClassName": "manual",
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/mnt/data"},
        },
    }
    assert defaulted(volume) == {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "task-pv-volume"},
        "spec": {
            "storageClassName": "manual",
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/mnt/data", "type": ""},
            "persistentVolumeReclaimPolicy": "Retain",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Pending"},
    }


def test_a_node_and_a_config_map_get_nothing():
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"}}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    assert defaulted(node) == node
    assert defaulted(config_map) == config_map


def test_a_recreate_deployment_gets_no_rolling_update_parameters():
    deployment = copy.deepcopy(NGINX_DEPLOYMENT)
    deployment["spec"]["strategy"] = {"type": "Recreate"}
    assert defaulted(deployment)["spec"]["strategy"] == {"type": "Recreate"}


def test_a_replication_controller_without_selector_or_replicas_selects_its_templates_labels_once():
    rc = copy.deepcopy(NGINX_REPLICATION_CONTROLLER)
    del rc["spec"]["selector"], rc["spec"]["replicas"]
    rc["metadata"]["labels"] = {"team": "web"}
    out = defaulted(rc)
    assert (out["spec"]["selector"], out["spec"]["replicas"]) == ({"app": "nginx"}, 1)
    assert out["metadata"]["labels"] == {"team": "web"}  # its own labels are kept


def test_a_replication_controller_without_a_template_gets_none():
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "bare"}, "spec": {}}
    assert defaulted(rc)["spec"] == {"replicas": 1}


def test_a_parallel_job_keeps_completions_unset():
    job = copy.deepcopy(PI_JOB)
    job["spec"]["parallelism"] = 3
    spec = defaulted(job)["spec"]
    assert "completions" not in spec
    assert spec["parallelism"] == 3


def test_a_job_with_a_pod_failure_policy_replaces_only_failed_pods():
    job = copy.deepcopy(PI_JOB)
    job["spec"]["podFailurePolicy"] = {
        "rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]
    }
    spec = defaulted(job)["spec"]
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"] == [{"type": "DisruptionTarget", "status": "True"}]


UID = "6d43e8a8-2f34-4f6f-9bc4-2d1b5c4f1a77"


def test_job_selector_defaults_label_the_template_and_select_the_controller_uid():
    job = job_selector_defaults(defaulted(PI_JOB), UID)

    generated = {
        "batch.kubernetes.io/controller-uid": UID,
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": UID,
        "job-name": "pi",
    }
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}
    assert job["spec"]["template"]["metadata"] == {"labels": generated}
    # A Job without labels of its own shows its template's, as when read back from storage.
    assert job["metadata"] == {"name": "pi", "namespace": "default", "uid": UID, "labels": generated}


def test_job_selector_defaults_keep_the_jobs_own_labels_and_a_manual_selector():
    job = copy.deepcopy(PI_JOB)
    job["metadata"]["labels"] = {"team": "maths"}
    assert job_selector_defaults(defaulted(job), UID)["metadata"]["labels"] == {"team": "maths"}

    manual = copy.deepcopy(PI_JOB)
    manual["spec"]["manualSelector"] = True
    manual["spec"]["selector"] = {"matchLabels": {"app": "pi"}}
    assert job_selector_defaults(defaulted(manual), UID)["spec"]["selector"] == {"matchLabels": {"app": "pi"}}


def test_create_defaults_are_the_defaults_plus_a_new_jobs_generated_selector():
    assert apply_create_defaults(PI_JOB, resource(PI_JOB), uid=UID) == job_selector_defaults(defaulted(PI_JOB), UID)
    assert apply_create_defaults(PI_JOB, resource(PI_JOB), uid=UID)["spec"]["selector"] is not None
    pod = apply_create_defaults(TWO_CONTAINERS_POD, resource(TWO_CONTAINERS_POD), uid=UID)
    assert pod == defaulted(TWO_CONTAINERS_POD)
    assert "uid" not in pod["metadata"]  # the uid is the store's to set


def test_pod_admission_defaults_add_the_service_account_priority_and_not_ready_tolerations():
    spec = pod_admission_defaults(defaulted(TWO_CONTAINERS_POD))["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("default", "default")
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    assert spec["tolerations"] == [
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
        {
            "effect": "NoExecute",
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "tolerationSeconds": 300,
        },
    ]


def test_defaulting_tolerates_malformed_input_and_leaves_it_for_validation():
    broken = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": "oops"}}
    assert defaulted(broken)["spec"]["template"] == "oops"
    bad_quantity = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "a:1", "resources": {"limits": {"memory": "12Qi"}}}]},
    }
    assert defaulted(bad_quantity)["spec"]["containers"][0]["resources"]["limits"] == {"memory": "12Qi"}
