"""The container commands of the Dockerfile, compose.yaml and the Kubernetes Deployment, run as
written against the built binaries (no Docker engine or kubelet here).

The runtime image's files are laid out as symlinks under a temporary root (from the Dockerfile's
COPY instructions), the image's ENTRYPOINT runs with its ENV (paths moved under that root) plus
what compose or the Deployment adds, and the HEALTHCHECK command and the Kubernetes probes'
grpc.health.v1 services are checked against the live server. Only the listen addresses are moved to
free ports on 127.0.0.1, so tests can run side by side.
"""
import os
import re
import shutil
import tempfile
import unittest

import yaml

import deploy_util as du
import dockerfile as df

_SANITIZER_ENV = re.compile(r"^(ASAN|UBSAN|LSAN)_OPTIONS$")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class ImageRoot:
    """The runtime image's files as symlinks into the build tree under a temporary root."""

    def __init__(self, stages, build_dir):
        self.root = tempfile.mkdtemp(prefix="ember-image-")
        self.files = df.image_files(stages, build_dir)
        for image_path, local in self.files.items():
            target = self.local(image_path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(local, target)

    def local(self, image_path):
        return os.path.join(self.root, image_path.lstrip("/"))

    def add_file(self, image_path, text):
        path = self.local(image_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def rewrite(self, value):
        """An absolute image path (alone or as a flag's value) -> the same path under the root."""
        m = re.match(r"^(--[a-z_]+=)?(/.*)$", value)
        if m is None:
            return value
        prefix, path = m.group(1) or "", m.group(2)
        return prefix + self.local(path) if os.path.exists(self.local(path)) else value

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


class ContainerCommandsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stages = df.parse_stages(read(du.source_path("Dockerfile")))
        cls.runtime = cls.stages[-1]
        cls.image_env = df.env_vars(cls.runtime)
        cls.entrypoint = df.exec_form(cls.runtime.all("ENTRYPOINT")[-1].args)
        healthcheck = cls.runtime.all("HEALTHCHECK")[-1].args
        cls.healthcheck = re.search(r"\bCMD (.*)$", healthcheck).group(1)
        if df.exec_form(cls.healthcheck) is not None:
            raise AssertionError("HEALTHCHECK is expected in shell form (it reads $EMBER_*)")

    def setUp(self):
        self.image = ImageRoot(self.stages, du.env("EMBER_BINARY_DIR"))
        self.addCleanup(self.image.cleanup)

    def environment(self, overrides):
        """The container's environment: the image's ENV, then overrides, paths under the root."""
        env = {"PATH": self.image.local("/usr/local/bin") + ":/usr/bin:/bin"}
        env.update({k: v for k, v in os.environ.items() if _SANITIZER_ENV.match(k)})
        for key, value in {**self.image_env, **overrides}.items():
            env[key] = self.image.rewrite(value)
        return env

    def start(self, make):
        """Runs the image's ENTRYPOINT with make(grpc_port, metrics_port) -> (args, environment
        overrides) on two free ports; returns (process, grpc_port, metrics_port) once the server
        is ready on exactly those ports. Retried when another process took a port first."""
        for attempt in range(3):
            grpc_port, metrics_port = du.free_port(), du.free_port()
            args, overrides = make(grpc_port, metrics_port)
            process = du.Process(self.entrypoint + args, env_vars=self.environment(overrides),
                                 name="entrypoint")
            self.addCleanup(process.kill)
            try:
                m = process.wait_for_log(r"ready: gRPC port (\d+), metrics port (\d+)")
            except AssertionError:
                if attempt == 2 or not re.search(r"cannot (listen|serve metrics)",
                                                 process.log.text()):
                    raise
                continue
            self.assertEqual((int(m.group(1)), int(m.group(2))), (grpc_port, metrics_port),
                             process.log.text())
            return process, grpc_port, metrics_port
        raise AssertionError("unreachable")

    def health(self, env, port, service=None):
        """The image's HEALTHCHECK command (service None) or a probe of one health service."""
        if service is None:
            return du.run(["/bin/sh", "-c", self.healthcheck], env=env, check=False)
        return du.run([du.cli_binary(), "health", f"--target=127.0.0.1:{port}",
                       f"--service={service}", "--deadline=5"], check=False)

    def stop_and_check_drain(self, process, drain_seconds):
        """SIGTERM reaches the server itself (the entrypoint execs it), which drains and exits 0."""
        rc = process.stop()
        log = process.log.text()
        self.assertEqual(rc, 0, log)
        self.assertIn("received SIGTERM", log)
        self.assertRegex(log, rf"draining for up to {drain_seconds:g}s")

    def test_docker_entrypoint_env_arguments_and_healthcheck(self):
        def make(grpc_port, metrics_port):
            return (["--model_name=from-docker-args", "--dtype=f32", "--threads=1"],
                    {"EMBER_GRPC_ADDRESS": f"127.0.0.1:{grpc_port}",
                     "EMBER_HTTP_ADDRESS": "127.0.0.1:0",
                     "EMBER_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}"})

        process, grpc_port, metrics_port = self.start(make)
        env = self.environment(make(grpc_port, metrics_port)[1])
        health = du.poll(lambda: (lambda r: r if r.returncode == 0 else None)(
            self.health(env, grpc_port)), du.START_TIMEOUT_S, "HEALTHCHECK to pass")
        self.assertEqual(health.stdout.strip(), "SERVING")
        # The model directory came from EMBER_MODEL_DIR, the name from the arguments.
        models = du.run([du.cli_binary(), "models", f"--target=127.0.0.1:{grpc_port}", "--json"])
        self.assertIn('"from-docker-args"', models.stdout)
        metrics = du.http_get(f"http://127.0.0.1:{metrics_port}/metrics")
        self.assertRegex(metrics, r'ember_model_info\{[^}]*model="from-docker-args"')
        self.stop_and_check_drain(process, 30)
        # A stopped server is unhealthy: exit status 1, what Docker expects.
        self.assertEqual(self.health(env, grpc_port).returncode, 1)

    def test_compose_service_command(self):
        compose = yaml.safe_load(read(du.source_path("deploy", "compose.yaml")))
        service = compose["services"]["ember"]
        self.assertEqual(service["build"]["dockerfile"], "Dockerfile")
        self.assertEqual(os.path.normpath(os.path.join(du.source_path("deploy"),
                                                       service["build"]["context"])),
                         os.path.normpath(du.env("EMBER_SOURCE_DIR")))

        def make(grpc_port, metrics_port):
            # Published ports map to the image's default addresses; here they move to free ports.
            overrides = dict(service.get("environment", {}))
            overrides.update({"EMBER_GRPC_ADDRESS": f"127.0.0.1:{grpc_port}",
                              "EMBER_HTTP_ADDRESS": "127.0.0.1:0",
                              "EMBER_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}"})
            return list(service["command"]) + ["--dtype=f32"], overrides

        process, grpc_port, metrics_port = self.start(make)
        env = self.environment(make(grpc_port, metrics_port)[1])
        du.poll(lambda: self.health(env, grpc_port).returncode == 0, du.START_TIMEOUT_S,
                "HEALTHCHECK to pass")
        drain = float(re.search(r"--drain_grace_seconds=([\d.]+)",
                                " ".join(service["command"])).group(1))
        grace = float(service["stop_grace_period"].rstrip("s"))
        self.assertGreater(grace, drain, "stop_grace_period must outlast the drain")
        self.stop_and_check_drain(process, drain)

    def test_kubernetes_container_flagfile_and_probes(self):
        kube = du.source_path("deploy", "kubernetes")
        deployment = yaml.safe_load(read(os.path.join(kube, "deployment.yaml")))
        configmap = yaml.safe_load(read(os.path.join(kube, "configmap.yaml")))
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        self.assertNotIn("command", container, "the image's ENTRYPOINT runs")

        # Mount the ConfigMap where the Deployment mounts it (paths in it moved under the root).
        volumes = {v["name"]: v for v in pod["volumes"]}
        for mount in container["volumeMounts"]:
            source = volumes[mount["name"]]["configMap"]["name"]
            self.assertEqual(source, configmap["metadata"]["name"])
            for key, text in configmap["data"].items():
                lines = [self.image.rewrite(line.strip()) for line in text.splitlines()]
                self.image.add_file(os.path.join(mount["mountPath"], key), "\n".join(lines) + "\n")
        flags = configmap["data"]["ember.flags"]
        drain = float(re.search(r"^--drain_grace_seconds=([\d.]+)$", flags, re.M).group(1))

        env = {e["name"]: e["value"] for e in container.get("env", [])}
        args = [self.image.rewrite(a) for a in container["args"]]

        def make(grpc_port, metrics_port):
            # Last flag wins: only the listen addresses move, the rest is the ConfigMap's.
            return args + [f"--grpc_address=127.0.0.1:{grpc_port}", "--http_address=127.0.0.1:0",
                           f"--metrics_address=127.0.0.1:{metrics_port}"], env

        process, grpc_port, _ = self.start(make)
        kv_mib = re.search(r"^--kv_cache_mib=(\d+)$", flags, re.M).group(1)
        self.assertRegex(process.log.text(), rf"KV cache \d+ blocks of \d+ = {kv_mib} MiB")

        # The probes, on the services the kubelet will ask for.
        for probe in ("readinessProbe", "livenessProbe"):
            service = container[probe]["grpc"].get("service", "")
            result = self.health({}, grpc_port, service)
            self.assertEqual((result.returncode, result.stdout.strip()), (0, "SERVING"),
                             f"{probe} service {service!r}: {result.stderr}")
        self.stop_and_check_drain(process, drain)


if __name__ == "__main__":
    unittest.main(verbosity=2)
