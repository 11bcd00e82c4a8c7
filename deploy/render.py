"""Renders the deployment files that differ only by service: the gateway's nginx.conf for the
compose file (upstream hosts by container name) and the Kubernetes manifests. Run it after
changing the template or the service list; scripts/deploy-check.sh fails when the committed files
differ from what this writes.

    python3 deploy/render.py            # writes deploy/nginx/gateway.compose.conf and deploy/k8s/rcm.yaml
    python3 deploy/render.py --loopback PORTS_JSON PREFIX LISTEN CERT KEY OUT
                                        # a loopback gateway for scripts/cluster
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
SERVICES = ["identity", "patient", "insurance", "billing", "claim", "payment", "reporting"]
# Instances of each service in compose and scripts/cluster; Kubernetes scales with replicas/HPA.
INSTANCES = {"billing": 2, "claim": 2}


def gateway(upstreams, listen, cert, key, prefix, api_rate=200):
    """api_rate: API requests/s per client address (the loopback benchmark lifts it)."""
    text = open(os.path.join(ROOT, "nginx/gateway.conf.template")).read()
    for service in SERVICES:
        servers = " ".join(f"server {address};" for address in upstreams[service])
        text = text.replace(f"__UPSTREAM_{service}__", servers)
    for token, value in [("__LISTEN__", listen), ("__CERT__", cert), ("__KEY__", key), ("__PREFIX__", prefix),
                         ("__API_RATE__", str(int(api_rate)))]:
        text = text.replace(token, value)
    assert "__" not in text.replace("__init__", ""), "unfilled placeholder"
    return text


def compose_gateway():
    upstreams = {}
    for service in SERVICES:
        count = INSTANCES.get(service, 1)
        names = [f"{service}-{n}" for n in range(1, count + 1)] if count > 1 else [service]
        upstreams[service] = [f"{name}:8080" for name in names]
    return gateway(upstreams, "8443", "/etc/rcm/tls/gateway.crt", "/etc/rcm/tls/gateway.key", "/tmp")


def kubernetes():
    docs = []
    def add(doc):
        docs.append(doc)
    add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rcm"}})
    add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rcm-config", "namespace": "rcm"},
         "data": dict({"RCM_EVENT_TRANSPORT": "rabbitmq", "RCM_OTLP_ENDPOINT": "http://jaeger-collector.observability:4318/v1/traces",
                       "RCM_TRACE_SAMPLE_RATIO": "0.1", "RCM_LOG_LEVEL": "info"},
                      **{f"RCM_{s.upper()}_URL": f"http://{s}.rcm.svc.cluster.local:8080" for s in SERVICES})})
    # Network: nothing reaches a pod unless allowed below.
    add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": "rcm"},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    for service in SERVICES:
        labels = {"app.kubernetes.io/name": "rcm", "app.kubernetes.io/component": service}
        secret = lambda key: {"secretKeyRef": {"name": "rcm-secrets", "key": key}}
        env = [{"name": "RCM_DATABASE_URL", "valueFrom": secret("database-url")},
               {"name": "RCM_AMQP_URL", "valueFrom": secret("amqp-url")},
               {"name": "RCM_DATA_KEYS", "valueFrom": secret("data-keys")}]
        probe = lambda path, delay: {"httpGet": {"path": path, "port": "http"}, "initialDelaySeconds": delay, "periodSeconds": 10,
                                     "timeoutSeconds": 2, "failureThreshold": 3}
        heavy = service in ("billing", "claim")
        add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": service, "namespace": "rcm", "labels": labels},
             "spec": {"replicas": 2 if heavy else 1, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels, "annotations": {"prometheus.io/scrape": "true", "prometheus.io/path": "/metrics", "prometheus.io/port": "8080"}},
                                   "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001},
                                            "containers": [{"name": "rcm", "image": "rcm:latest", "imagePullPolicy": "IfNotPresent",
                                                            "args": ["serve", "--service", service],
                                                            "ports": [{"name": "http", "containerPort": 8080}],
                                                            "envFrom": [{"configMapRef": {"name": "rcm-config"}}], "env": env,
                                                            "volumeMounts": [{"name": "signing-keys", "mountPath": "/var/lib/rcm/keys", "readOnly": True}],
                                                            "livenessProbe": probe("/health/live", 5), "readinessProbe": probe("/health/ready", 3),
                                                            "resources": {"requests": {"cpu": "500m" if heavy else "200m", "memory": "256Mi"},
                                                                          "limits": {"cpu": "2", "memory": "1Gi"}},
                                                            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                                                                "capabilities": {"drop": ["ALL"]}}}],
                                            "volumes": [{"name": "signing-keys", "secret": {"secretName": "rcm-signing-keys"}}]}}}})
        add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": service, "namespace": "rcm", "labels": labels},
             "spec": {"selector": labels, "ports": [{"name": "http", "port": 8080, "targetPort": "http"}]}})
        # Who may call this service: the gateway, Prometheus, and the other services.
        add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": f"{service}-ingress", "namespace": "rcm"},
             "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rcm"}}},
                                            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "rcm-gateway"}}},
                                            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                                   "ports": [{"protocol": "TCP", "port": 8080}]}]}})
        if heavy:
            add({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": service, "namespace": "rcm"},
                 "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service},
                          "minReplicas": 2, "maxReplicas": 10,
                          "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}})
    gateway_labels = {"app.kubernetes.io/name": "rcm-gateway"}
    add({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gateway", "namespace": "rcm", "labels": gateway_labels},
         "spec": {"replicas": 2, "selector": {"matchLabels": gateway_labels},
                  "template": {"metadata": {"labels": gateway_labels},
                               "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27-bookworm", "ports": [{"name": "https", "containerPort": 8443}],
                                                        "volumeMounts": [{"name": "config", "mountPath": "/etc/nginx/nginx.conf", "subPath": "nginx.conf"},
                                                                         {"name": "tls", "mountPath": "/etc/rcm/tls", "readOnly": True}],
                                                        "livenessProbe": {"tcpSocket": {"port": "https"}, "periodSeconds": 10},
                                                        "readinessProbe": {"tcpSocket": {"port": "https"}, "periodSeconds": 5},
                                                        "resources": {"requests": {"cpu": "200m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}}],
                                        "volumes": [{"name": "config", "configMap": {"name": "rcm-gateway"}},
                                                    {"name": "tls", "secret": {"secretName": "rcm-gateway-tls"}}]}}}})
    add({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gateway", "namespace": "rcm"},
         "spec": {"type": "LoadBalancer", "selector": gateway_labels, "ports": [{"name": "https", "port": 443, "targetPort": "https"}]}})
    add({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "gateway-ingress", "namespace": "rcm"},
         "spec": {"podSelector": {"matchLabels": gateway_labels}, "policyTypes": ["Ingress"],
                  "ingress": [{"ports": [{"protocol": "TCP", "port": 8443}]}]}})
    k8s_upstreams = {s: [f"{s}.rcm.svc.cluster.local:8080"] for s in SERVICES}
    add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rcm-gateway", "namespace": "rcm"},
         "data": {"nginx.conf": gateway(k8s_upstreams, "8443", "/etc/rcm/tls/tls.crt", "/etc/rcm/tls/tls.key", "/tmp")}})
    # JSON is YAML: one document per resource, readable by kubectl and by kubernetes-validate.
    return "".join("---\n" + json.dumps(doc, indent=2) + "\n" for doc in docs)


def main(argv):
    if len(argv) > 1 and argv[1] == "--loopback":
        ports, prefix, listen, cert, key, out = argv[2:8]
        upstreams = {s: [f"127.0.0.1:{p}" for p in v] for s, v in json.loads(ports).items()}
        rate = os.environ.get("RCM_GATEWAY_API_RATE", "200")  # the benchmark lifts the per-client limit
        assert rate.isdigit(), "RCM_GATEWAY_API_RATE is requests per second"
        open(out, "w").write(gateway(upstreams, listen, cert, key, prefix, api_rate=int(rate)))
        return
    open(os.path.join(ROOT, "nginx/gateway.compose.conf"), "w").write(compose_gateway())
    open(os.path.join(ROOT, "k8s/rcm.yaml"), "w").write(kubernetes())


main(sys.argv)
