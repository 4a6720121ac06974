"""The Dockerfile, checked as far as it can be without a Docker engine.

- The build stage uses the project's own install script, builds, and runs the tests by default.
- Every COPY source from the build context exists and is not excluded by .dockerignore, and no
  file the build reads is excluded.
- Every /build path the build stage copies out exists in this CMake build tree, and every COPY
  --from=build source is something the build stage produces.
- The runtime stage's apt packages (with the dependencies apt installs along with them, and the
  few packages debian:bookworm-slim already has) provide every shared library ldd reports for the
  binaries copied into the runtime image.
- The runtime configuration hangs together: numeric non-root USER, EXPOSE of exactly the ports of
  the default addresses, ENV paths that exist in the image, HEALTHCHECK through `ember_cli health`.
"""
import os
import re
import subprocess
import unittest

import deploy_util as du
import dockerfile as df

# Packages every debian:bookworm-slim image has (libc6 is Essential; apt needs libstdc++6 and
# libgcc-s1; dpkg needs zlib1g), so the runtime stage need not install them.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
# Listed in the runtime stage for what they are, not for a library: the system root
# certificates for `ember_cli --tls`.
NON_LIBRARY_PACKAGES = {"ca-certificates"}
# A sanitizer build links the sanitizer runtimes; the image is built without sanitizers.
SANITIZER_PACKAGE = re.compile(r"^lib(asan|ubsan|lsan|tsan)\d+$")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def ldd(path):
    """Resolved paths of every shared library `path` loads (fails on 'not found')."""
    result = du.run(["ldd", path])
    libraries = []
    for line in result.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            raise AssertionError(f"ldd {path}: {line}")
        m = re.match(r"^\S+ => (/\S+) \(0x[0-9a-f]+\)$", line) or \
            re.match(r"^(/\S+) \(0x[0-9a-f]+\)$", line)
        if m:
            libraries.append(m.group(1))
        elif not re.match(r"^(linux-vdso|linux-gate)\S* \(0x[0-9a-f]+\)$", line):
            raise AssertionError(f"ldd {path}: unexpected line {line!r}")
    return libraries


def owning_packages(paths):
    """{library path: the Debian package that installed it}, from one `dpkg -S` over every
    spelling of each path (merged-/usr systems register some files under /lib, some under
    /usr/lib)."""
    spellings = {}
    for path in paths:
        for p in (path, os.path.realpath(path)):
            spellings.setdefault(p, path)
            alternate = p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p
            spellings.setdefault(alternate, path)
    # dpkg -S exits 1 when some spelling is unknown; the ones it knows are still printed.
    result = subprocess.run(["dpkg", "-S", *spellings], capture_output=True, text=True)
    owners = {}
    for line in result.stdout.splitlines():
        if line.startswith("diversion by"):
            continue
        packages, _, file = line.partition(": ")
        if file in spellings:
            owners.setdefault(spellings[file], packages.split(", ")[0].split(":")[0])
    unowned = sorted(set(paths) - set(owners))
    if unowned:
        raise AssertionError(f"no Debian package owns {unowned} (dpkg -S)")
    return owners


class PackageDatabase:
    """The installed packages and their dependencies, read once with dpkg-query."""

    def __init__(self):
        result = du.run(["dpkg-query", "-W",
                         "-f=${Package}\\t${Status}\\t${Depends}, ${Pre-Depends}\\n"])
        self.depends_field = {}
        for line in result.stdout.splitlines():
            name, status, depends = line.split("\t")
            if status == "install ok installed":
                self.depends_field[name] = depends

    def installed(self, package):
        return package in self.depends_field

    def depends(self, package):
        """Direct Depends and Pre-Depends; from each alternative group the first installed
        member (what apt satisfied it with on this machine)."""
        names = []
        for group in self.depends_field.get(package, "").split(","):
            for alternative in group.split("|"):
                name = alternative.strip().split(" ")[0].split(":")[0]
                if name in self.depends_field:
                    names.append(name)
                    break
        return names

    def closure(self, packages):
        """The packages and everything they depend on, recursively (what apt installs)."""
        seen = set()
        todo = list(packages)
        while todo:
            package = todo.pop()
            if package not in seen:
                seen.add(package)
                todo += self.depends(package)
        return seen


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dockerfile = read(du.source_path("Dockerfile"))
        cls.stages = df.parse_stages(cls.dockerfile)
        cls.ignore = df.DockerIgnore(read(du.source_path(".dockerignore")))
        cls.build_dir = du.env("EMBER_BINARY_DIR")

    def stage(self, name):
        for s in self.stages:
            if s.name == name:
                return s
        self.fail(f"no stage named {name}: {[s.name for s in self.stages]}")

    def test_stages_build_on_bookworm_and_run_on_slim(self):
        self.assertEqual([(s.image, s.name) for s in self.stages],
                         [("debian:bookworm", "build"), ("debian:bookworm-slim", "runtime")])

    def test_build_stage_uses_install_script_builds_and_tests(self):
        build = self.stage("build")
        runs = " ".join(i.args for i in build.all("RUN"))
        self.assertIn("bash scripts/install_deps.sh", runs)
        self.assertIn("cmake --build /build", runs)
        self.assertRegex(runs, r'ctest --test-dir /build\b')
        args = {i.args.split("=")[0]: i.args.split("=", 1)[1] for i in build.all("ARG")}
        self.assertEqual(args.get("EMBER_RUN_TESTS"), "1", "tests run by default")

    def test_copy_sources_exist_and_are_not_dockerignored(self):
        checked = 0
        for stage in self.stages:
            for copy in df.copies(stage):
                if copy.from_stage is not None:
                    continue
                for source in copy.sources:
                    path = du.source_path(source)
                    self.assertTrue(os.path.exists(path), f"COPY {source} (line {copy.line})")
                    if os.path.normpath(source) != ".":
                        self.assertFalse(self.ignore.excluded(source),
                                         f"COPY {source} is excluded by .dockerignore")
                    checked += 1
        self.assertGreaterEqual(checked, 2)

    def test_dockerignore_keeps_every_build_input(self):
        # What `COPY . .` must bring for the build and the tests: every file of these top-level
        # entries (the CMake tree, its helpers, the scripts and the deploy files the tests read).
        roots = ["CMakeLists.txt", ".clang-format", "Dockerfile", ".dockerignore", "cmake", "core",
                 "proto", "server", "client", "tools", "tests", "bench", "scripts", "deploy"]
        source = du.env("EMBER_SOURCE_DIR")
        count = 0
        for root in roots:
            path = os.path.join(source, root)
            self.assertTrue(os.path.exists(path), root)
            walk = [(source, [], [root])] if os.path.isfile(path) else os.walk(path)
            for directory, dirs, files in walk:
                dirs[:] = [d for d in dirs if d not in ("node_modules", "__pycache__")]
                for name in files:
                    relative = os.path.relpath(os.path.join(directory, name), source)
                    if name.endswith(".pyc"):
                        continue
                    self.assertFalse(self.ignore.excluded(relative),
                                     f"{relative} is excluded by .dockerignore")
                    count += 1
        self.assertGreater(count, 100)
        # ...and what must stay out: local build trees and npm installs.
        for relative in ["build/CMakeCache.txt", "build-asan/x", "tests/deploy/node/node_modules/x",
                         ".git/HEAD", "tools/__pycache__/x.pyc"]:
            self.assertTrue(self.ignore.excluded(relative), f"{relative} should be excluded")

    def test_build_outputs_exist_in_the_cmake_build_tree(self):
        outputs = df.build_stage_outputs(self.stage("build"), self.build_dir)
        self.assertGreaterEqual(len(outputs), 4, outputs)
        for produced, local in outputs.items():
            self.assertTrue(os.path.exists(local), f"{produced} <- {local}: not built")
        files = df.image_files(self.stages, self.build_dir)
        for image_path in ["/usr/local/bin/ember_server", "/usr/local/bin/ember_cli",
                           "/usr/local/lib/libember_sentencepiece_shim.so",
                           "/opt/ember/models/kjv-llama"]:
            self.assertIn(image_path, files)
        self.assertTrue(os.path.isfile(
            df.resolve_image_path("/opt/ember/models/kjv-llama/config.json", files)))

    def test_runtime_packages_provide_every_library(self):
        runtime = self.stage("runtime")
        listed = df.installed_packages(runtime)
        self.assertIn("libgrpc++1.51", listed)
        db = PackageDatabase()
        library_packages = [p for p in listed if p not in NON_LIBRARY_PACKAGES]
        not_installed = [p for p in library_packages if not db.installed(p)]
        self.assertEqual(not_installed, [],
                         "runtime packages not installed on this build machine, so the binaries "
                         "cannot have been linked against them")
        provided = db.closure(library_packages) | db.closure(BASE_IMAGE_PACKAGES)
        sanitized = bool(os.environ.get("EMBER_SANITIZE"))

        files = df.image_files(self.stages, self.build_dir)
        binaries = sorted(local for image_path, local in files.items()
                          if image_path.startswith(("/usr/local/bin/", "/usr/local/lib/")))
        self.assertEqual(len(binaries), 3, binaries)
        needs = {binary: ldd(binary) for binary in binaries}
        owners = owning_packages({lib for libs in needs.values() for lib in libs})
        missing = {}
        for binary, libraries in needs.items():
            for library in libraries:
                package = owners[library]
                if package in provided or (sanitized and SANITIZER_PACKAGE.match(package)):
                    continue
                missing.setdefault(package, []).append(f"{os.path.basename(binary)}: {library}")
        self.assertEqual(missing, {}, "libraries no runtime-stage package provides (add the "
                         "package to the runtime stage's apt-get install)")
        # ...and each listed library package is needed by some binary, directly or through
        # another package.
        needed = db.closure(set(owners.values()))
        unused = [p for p in library_packages if p not in needed]
        self.assertEqual(unused, [], "runtime packages no binary needs")

    def test_runtime_configuration(self):
        runtime = self.stages[-1]
        env = df.env_vars(runtime)
        files = df.image_files(self.stages, self.build_dir)

        user = runtime.all("USER")[-1].args
        uid = user.split(":")[0]
        self.assertTrue(uid.isdigit() and int(uid) != 0, f"USER {user}: numeric and not root")

        ports = {int(p.split("/")[0]) for i in runtime.all("EXPOSE") for p in i.args.split()}
        address_ports = {int(env[k].rsplit(":", 1)[1])
                         for k in ("EMBER_GRPC_ADDRESS", "EMBER_HTTP_ADDRESS",
                                   "EMBER_METRICS_ADDRESS")}
        self.assertEqual(ports, address_ports)

        for key in ("EMBER_MODEL_DIR", "EMBER_SENTENCEPIECE_SHIM"):
            local = df.resolve_image_path(env[key], files)
            self.assertTrue(local is not None and os.path.exists(local),
                            f"{key}={env[key]} is not in the image")

        entrypoint = df.exec_form(runtime.all("ENTRYPOINT")[-1].args)
        script = " ".join(entrypoint)
        self.assertIn("exec ember_server", script)
        for key in ("EMBER_MODEL_DIR", "EMBER_GRPC_ADDRESS", "EMBER_HTTP_ADDRESS",
                    "EMBER_METRICS_ADDRESS"):
            self.assertIn(f"${key}", script)
        self.assertIn('"$@"', script, "arguments after the image name reach the server")

        healthcheck = runtime.all("HEALTHCHECK")[-1].args
        self.assertRegex(healthcheck, r"\bCMD ember_cli health ")
        self.assertIn("EMBER_GRPC_ADDRESS", healthcheck)


if __name__ == "__main__":
    unittest.main(verbosity=2)
