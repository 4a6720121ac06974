"""deploy/'s compose file, Grafana provisioning and Kubernetes manifests: valid, and consistent with
each other, with the Dockerfile and with the server's flags.

compose.yaml is validated by docker-compose itself (`docker-compose config` checks the Compose
schema without an engine). The rest is parsed as YAML and held to what the files promise: ports,
names and paths that must agree across files, gRPC probes on the server's health services, and a
termination grace period that covers preStop plus the server's drain.
"""
import os
import re
import unittest

import yaml

import deploy_util as du
import dockerfile as df


def read(*parts):
    with open(du.source_path(*parts), encoding="utf-8") as f:
        return f.read()


def load_all(*parts):
    return [d for d in yaml.safe_load_all(read(*parts)) if d is not None]


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def flag_values(flags_text):
    """ConfigMap flag file -> {flag: value} (last one wins, as in Abseil's --flagfile)."""
    values = {}
    for line in flags_text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^--([a-z_]+)=(.*)$", line)
        if m is None:
            raise AssertionError(f"flag file line is not --name=value: {line!r}")
        values[m.group(1)] = m.group(2)
    return values


def quantity_mib(text):
    units = {"Mi": 1, "Gi": 1024, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    m = re.match(r"^(\d+(?:\.\d+)?)(Mi|Gi|M|G)$", str(text))
    if m is None:
        raise AssertionError(f"unexpected memory quantity {text!r}")
    return float(m.group(1)) * units[m.group(2)]


class ComposeTest(unittest.TestCase):
    def setUp(self):
        self.compose = yaml.safe_load(read("deploy", "compose.yaml"))
        self.services = self.compose["services"]
        runtime = df.parse_stages(read("Dockerfile"))[-1]
        self.image_env = df.env_vars(runtime)

    def test_docker_compose_validates_the_file(self):
        tool = du.require_tool("docker-compose", "apt-get install docker-compose",
                               "EMBER_DOCKER_COMPOSE")
        result = du.run([tool, "--project-directory", du.source_path("deploy"), "-f",
                         du.source_path("deploy", "compose.yaml"), "config"])
        resolved = yaml.safe_load(result.stdout)
        self.assertEqual(set(resolved["services"]), {"ember", "prometheus", "grafana"})

    def test_mounted_files_exist(self):
        for name, service in self.services.items():
            for volume in service.get("volumes", []):
                source = volume.split(":")[0]
                if source.startswith("."):
                    self.assertTrue(os.path.exists(du.source_path("deploy", source)),
                                    f"{name} mounts {source}")

    def mount_target(self, service, source):
        for volume in self.services[service]["volumes"]:
            parts = volume.split(":")
            if os.path.normpath(parts[0]) == os.path.normpath(source):
                return parts[1]
        self.fail(f"{service} does not mount {source}")

    def test_prometheus_scrapes_the_ember_service(self):
        config_target = self.mount_target("prometheus", "./prometheus.yml")
        self.assertIn(f"--config.file={config_target}", self.services["prometheus"]["command"])
        prometheus = yaml.safe_load(read("deploy", "prometheus.yml"))
        targets = [t for job in prometheus["scrape_configs"] for sc in job["static_configs"]
                   for t in sc["targets"]]
        env = {**self.image_env, **self.services["ember"].get("environment", {})}
        self.assertEqual(targets, [f"ember:{port_of(env['EMBER_METRICS_ADDRESS'])}"])

    def test_grafana_reads_the_provisioning_and_dashboards(self):
        self.assertEqual(self.mount_target("grafana", "./grafana/provisioning"),
                         "/etc/grafana/provisioning")
        dashboards = self.mount_target("grafana", "./grafana/dashboards")
        providers = yaml.safe_load(read("deploy", "grafana", "provisioning", "dashboards",
                                        "ember.yaml"))["providers"]
        self.assertEqual([p["options"]["path"] for p in providers], [dashboards])
        home = self.services["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        self.assertTrue(home.startswith(dashboards + "/"))
        self.assertTrue(os.path.isfile(du.source_path("deploy", "grafana", "dashboards",
                                                      os.path.basename(home))))
        datasources = yaml.safe_load(read("deploy", "grafana", "provisioning", "datasources",
                                          "prometheus.yaml"))["datasources"]
        self.assertEqual([d["url"] for d in datasources], ["http://prometheus:9090"])
        self.assertIn("prometheus", self.services)

    def test_stop_grace_period_outlasts_the_drain(self):
        ember = self.services["ember"]
        m = re.search(r"--drain_grace_seconds=([\d.]+)", " ".join(ember["command"]))
        drain = float(m.group(1)) if m else 30.0  # the server's default
        self.assertGreater(float(ember["stop_grace_period"].rstrip("s")), drain)


class KubernetesTest(unittest.TestCase):
    def setUp(self):
        self.docs = {}
        for name in sorted(os.listdir(du.source_path("deploy", "kubernetes"))):
            if name.endswith(".yaml"):
                self.docs[name] = load_all("deploy", "kubernetes", name)
        by_kind = {}
        for docs in self.docs.values():
            for doc in docs:
                by_kind.setdefault(doc["kind"], []).append(doc)
        self.by_kind = by_kind
        self.deployment = by_kind["Deployment"][0]
        self.pod = self.deployment["spec"]["template"]
        self.container = self.pod["spec"]["containers"][0]
        self.ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        configmap = by_kind["ConfigMap"][0]
        self.flags = flag_values(configmap["data"]["ember.flags"])

    def test_kustomization_lists_every_manifest_but_the_podmonitor(self):
        kustomization = self.docs["kustomization.yaml"][0]
        listed = set(kustomization["resources"])
        self.assertEqual(listed, set(self.docs) - {"kustomization.yaml", "podmonitor.yaml"})
        self.assertEqual(self.docs["podmonitor.yaml"][0]["kind"], "PodMonitor")

    def test_labels_and_selectors_agree(self):
        labels = self.pod["metadata"]["labels"]
        selector = self.deployment["spec"]["selector"]["matchLabels"]
        self.assertEqual(selector.items() - labels.items(), set())
        for service in self.by_kind["Service"]:
            self.assertEqual(service["spec"]["selector"].items() - labels.items(), set())
            for port in service["spec"]["ports"]:
                self.assertIn(port["targetPort"], self.ports, service["metadata"]["name"])
                if port["name"] == "grpc":
                    self.assertEqual(port["appProtocol"], "kubernetes.io/h2c")
        headless = [s for s in self.by_kind["Service"] if s["spec"].get("clusterIP") == "None"]
        self.assertEqual(len(headless), 1, "a headless Service for client-side round-robin")
        podmonitor = self.by_kind["PodMonitor"][0]
        self.assertEqual(podmonitor["spec"]["selector"]["matchLabels"].items() - labels.items(),
                         set())
        for endpoint in podmonitor["spec"]["podMetricsEndpoints"]:
            self.assertIn(endpoint["port"], self.ports)
        hpa = self.by_kind["HorizontalPodAutoscaler"][0]
        self.assertEqual((hpa["spec"]["scaleTargetRef"]["kind"],
                          hpa["spec"]["scaleTargetRef"]["name"]),
                         ("Deployment", self.deployment["metadata"]["name"]))
        self.assertNotIn("replicas", self.deployment["spec"], "the HPA owns the replica count")

    def test_ports_agree_with_flags_probes_and_scrape_annotations(self):
        self.assertEqual(port_of(self.flags["grpc_address"]), self.ports["grpc"])
        self.assertEqual(port_of(self.flags["http_address"]), self.ports["http"])
        self.assertEqual(port_of(self.flags["metrics_address"]), self.ports["metrics"])
        annotations = self.pod["metadata"]["annotations"]
        self.assertEqual(annotations["prometheus.io/scrape"], "true")
        self.assertEqual(int(annotations["prometheus.io/port"]), self.ports["metrics"])
        self.assertEqual(annotations["prometheus.io/path"], "/metrics")

    def test_native_grpc_probes_on_the_health_services(self):
        readiness = self.container["readinessProbe"]["grpc"]
        liveness = self.container["livenessProbe"]["grpc"]
        self.assertEqual(readiness["port"], self.ports["grpc"])
        self.assertEqual(liveness["port"], self.ports["grpc"])
        self.assertIn(readiness.get("service", ""), ("", "ember.v1.Generation"))
        self.assertEqual(liveness["service"], "liveness")
        # Liveness must not fail before the server's own stall watchdog would.
        live = self.container["livenessProbe"]
        self.assertGreaterEqual(live["periodSeconds"] * live["failureThreshold"], 10)

    def test_termination_grace_covers_prestop_and_drain(self):
        pre_stop = self.container["lifecycle"]["preStop"]["exec"]["command"]
        self.assertEqual(pre_stop[0], "sleep")
        drain = float(self.flags["drain_grace_seconds"])
        grace = self.pod["spec"]["terminationGracePeriodSeconds"]
        margin = 5
        self.assertGreaterEqual(grace, float(pre_stop[1]) + drain + margin,
                                "terminationGracePeriodSeconds < preStop + drain + margin: "
                                "SIGKILL would cut the drain short")

    def test_resources_fit_the_flags(self):
        resources = self.container["resources"]
        self.assertEqual(resources["requests"], resources["limits"], "Guaranteed QoS")
        self.assertEqual(int(self.flags["threads"]), int(resources["requests"]["cpu"]),
                         "--threads = the CPU request (0 would mean every core of the node)")
        memory = quantity_mib(resources["limits"]["memory"])
        self.assertGreaterEqual(memory, int(self.flags["kv_cache_mib"]) + 150)

    def test_runs_as_the_image_user(self):
        runtime = df.parse_stages(read("Dockerfile"))[-1]
        uid = runtime.all("USER")[-1].args.split(":")[0]
        security = self.pod["spec"]["securityContext"]
        self.assertTrue(security["runAsNonRoot"])
        self.assertEqual(str(security["runAsUser"]), uid)
        self.assertTrue(self.container["securityContext"]["readOnlyRootFilesystem"])
        mounts = {m["name"]: m["mountPath"] for m in self.container["volumeMounts"]}
        flagfile = [a for a in self.container["args"] if a.startswith("--flagfile=")]
        self.assertEqual(len(flagfile), 1)
        self.assertEqual(os.path.dirname(flagfile[0].split("=", 1)[1]), mounts["flags"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
