"""Values the chart is rendered with in the tests: the defaults and every documented option."""

from __future__ import annotations

# Every documented option is set in at least one of these (test_every_value_is_exercised).
OPTION_SETS: dict[str, dict] = {
    "defaults": {},
    # Managed Redis with a password, RBAC limited to two namespaces, monitoring, adapter rule.
    "managed-redis-namespaced-monitoring": {
        "replicaCount": 3,
        "nameOverride": "stripe",
        "commonLabels": {"team": "payments"},
        "clusterDomain": "corp.local",
        "watchNamespaces": ["payments", "billing"],
        "leaderElection": {"enabled": True},
        "operator": {
            "image": {"repository": "registry.example/stripe-operator", "tag": "1.2.3", "pullPolicy": "Always"},
            "logFormat": "text",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
            "podAnnotations": {"example.com/owner": "platform"},
            "podLabels": {"tier": "control"},
            "priorityClassName": "system-cluster-critical",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "platform", "effect": "NoSchedule"}],
            "affinity": {
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 100,
                            "podAffinityTerm": {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "operator"}},
                            },
                        }
                    ]
                }
            },
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "operator"}},
                }
            ],
        },
        "node": {
            "image": {"repository": "registry.example/stripe-node", "tag": "1.2.3"},
            "podSelector": {"app.kubernetes.io/name": "stripe-connector-node", "app.kubernetes.io/managed-by": "stripe-operator"},
        },
        "imagePullSecrets": [{"name": "registry-credentials"}],
        "serviceAccount": {
            "create": True,
            "name": "stripe-operator",
            "annotations": {"example.com/role": "operator"},
            "automount": True,
        },
        "rbac": {"create": True},
        "redis": {
            "enabled": True,
            "image": {"repository": "registry.example/redis", "tag": "7.2.7-alpine", "pullPolicy": "Always"},
            "maxmemory": "32mb",
            "networkPolicy": {"enabled": True},
            "auth": {"existingSecret": "limiter-redis", "existingSecretKey": "redis-password"},
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "96Mi"}},
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        },
        "metrics": {
            "service": {"port": 9100},
            "serviceMonitor": {"enabled": True, "interval": "15s", "scrapeTimeout": "5s", "labels": {"release": "prom"}},
            "nodePodMonitor": {
                "enabled": True,
                "interval": "10s",
                "labels": {"release": "prom"},
                "port": "admin",
            },
            "prometheusRule": {"enabled": True, "labels": {"release": "prom"}},
            "grafanaDashboard": {"enabled": True, "namespace": "monitoring", "labels": {"dashboards": "stripe"}},
        },
        "prometheusAdapter": {"rule": {"enabled": True, "namespace": "monitoring", "window": "2m"}},
        "apiCertificates": [
            {"connection": "payments", "namespace": "payments", "issuerRef": {"name": "cluster-ca", "kind": "ClusterIssuer"}, "duration": "720h", "renewBefore": "240h"}
        ],
        "tests": {"enabled": True, "image": {"repository": "registry.example/curl", "tag": "8.11.1", "pullPolicy": "Always"}},
    },
    # External Redis with a password, cluster-wide RBAC, everything optional switched off.
    "external-redis-minimal": {
        "replicaCount": 1,
        "fullnameOverride": "stripe-operator",
        "leaderElection": {"enabled": False},
        "serviceAccount": {"create": False, "name": "preexisting-operator"},
        "rbac": {"create": False},
        "redis": {
            "enabled": False,
            "externalUrl": "rediss://redis.shared.svc:6380/2",
            "auth": {"existingSecret": "shared-redis", "existingSecretKey": "password"},
        },
        "tests": {"enabled": False},
    },
    # External Redis without a password, cluster-wide RBAC with its own service account.
    "external-redis-cluster-wide": {
        "redis": {"enabled": False, "externalUrl": "redis://redis.shared.svc:6379"},
        "metrics": {"serviceMonitor": {"enabled": True}},
        "prometheusAdapter": {"rule": {"enabled": True}},
    },
}
