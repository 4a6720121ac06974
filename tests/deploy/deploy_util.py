"""Shared by the deploy tests: paths from CTest, tools that must exist, the real ember_server on
ephemeral ports, polling with deadlines, and a tiny /metrics parser.

Every test here runs under /usr/bin/python3 (Debian's python3-yaml, python3-grpcio) and gets its
paths from the environment CTest sets (tests/deploy/CMakeLists.txt). A missing tool is a failure
with an install hint, never a skip.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

# Wall-clock bounds for a loaded 2-core machine (an ASan build, ctest -j2 beside other tests).
# Every wait polls a condition and gives up at its bound; none is a fixed sleep.
START_TIMEOUT_S = 60
CALL_TIMEOUT_S = 60


def env(name):
    value = os.environ.get(name, "")
    if not value:
        raise AssertionError(f"{name} is not set; run this through ctest (tests/deploy)")
    return value


def source_path(*parts):
    return os.path.join(env("EMBER_SOURCE_DIR"), *parts)


def binary_path(*parts):
    return os.path.join(env("EMBER_BINARY_DIR"), *parts)


def server_binary():
    return binary_path("server", "ember_server")


def cli_binary():
    return binary_path("client", "cli", "ember_cli")


def model_dir():
    """The default model the deployment serves: the trained KJV Llama committed in models/."""
    return source_path("models", "kjv-llama")


def require_tool(name, install_hint, env_var=None):
    """The absolute path of a tool, from env_var if set, else PATH; fails loudly when missing."""
    path = os.environ.get(env_var, "") if env_var else ""
    if not path or "NOTFOUND" in path:
        path = shutil.which(name) or ""
    if not path or not os.access(path, os.X_OK):
        raise AssertionError(
            f"'{name}' is required by this test and was not found: {install_hint} "
            "(scripts/install_deps.sh installs it)")
    return path


def free_port():
    """A port free right now on 127.0.0.1 (for tools that cannot bind port 0 and report it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(condition, timeout, what, interval=0.1):
    """Calls condition() until it returns a truthy value (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode("utf-8")


def run(args, timeout=CALL_TIMEOUT_S, check=True, **kwargs):
    """Runs a command to completion; on failure the message carries its output."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}\n"
                             f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


class LogReader:
    """Collects a child's output lines on a thread, so a chatty child never blocks writing."""

    def __init__(self, stream):
        self._lines = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in stream:
            with self._lock:
                self._lines.append(line)

    def text(self):
        with self._lock:
            return "".join(self._lines)

    def join(self, timeout):
        self._thread.join(timeout)


_READY = re.compile(r"ready: gRPC port (\d+), metrics port (\d+)")


class Process:
    """A child process whose stderr+stdout is collected; stop() sends SIGTERM and waits."""

    def __init__(self, args, env_vars=None, name=None):
        self.name = name or os.path.basename(args[0])
        self.args = args
        # The child gets SIGKILL if this test dies without cleaning up (util-linux's setpriv sets
        # the parent-death signal, which survives exec), so no server outlives its test.
        setpriv = require_tool("setpriv", "apt-get install util-linux")
        self.proc = subprocess.Popen([setpriv, "--pdeathsig", "KILL", "--", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=env_vars)
        self.log = LogReader(self.proc.stdout)

    def wait_for_log(self, pattern, timeout=START_TIMEOUT_S):
        """Polls the output for a regex; fails early if the process exits."""
        regex = re.compile(pattern)

        def found():
            m = regex.search(self.log.text())
            if m is None and self.proc.poll() is not None:
                self.log.join(5)
                m = regex.search(self.log.text())
                if m is None:
                    raise AssertionError(f"{self.name} exited {self.proc.returncode} before "
                                         f"logging /{pattern}/; output:\n{self.log.text()}")
            return m

        return poll(found, timeout, f"{self.name} to log /{pattern}/")

    def stop(self, timeout=START_TIMEOUT_S):
        """SIGTERM, then the exit status (SIGKILL and failure if it does not exit in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"{self.name} did not exit within {timeout} s of SIGTERM; "
                                 f"output:\n{self.log.text()}")
        self.log.join(5)
        self.proc.stdout.close()
        return rc

    def kill(self):
        """Idempotent cleanup (after stop() too)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.join(5)
        if not self.proc.stdout.closed:
            self.proc.stdout.close()


class EmberServer(Process):
    """ember_server on the default model (or `model`), gRPC and metrics on ports the kernel picks
    (port 0; the server logs the bound ports). Use as a context manager: the exit asserts a clean
    SIGTERM drain (exit status 0)."""

    def __init__(self, extra_args=(), metrics=True, model=None, dtype="f32"):
        args = [server_binary(), f"--model_dir={model or model_dir()}", f"--dtype={dtype}",
                "--threads=1",
                "--grpc_address=127.0.0.1:0", "--http_address=",
                "--metrics_address=" + ("127.0.0.1:0" if metrics else "")]
        super().__init__(args + list(extra_args), name="ember_server")
        m = self.wait_for_log(_READY.pattern)
        self.grpc_port = int(m.group(1))
        self.metrics_port = int(m.group(2))
        self.target = f"127.0.0.1:{self.grpc_port}"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.kill()
            return False
        rc = self.stop()
        if rc != 0:
            raise AssertionError(f"ember_server exited {rc} after SIGTERM; output:\n"
                                 f"{self.log.text()}")
        return False

    def cli(self, *args, timeout=CALL_TIMEOUT_S, check=True):
        return run([cli_binary(), args[0], f"--target={self.target}", *args[1:]],
                   timeout=timeout, check=check)


def parse_metrics(text):
    """Prometheus text exposition -> ({family: type}, {sample name: [(labels dict, value)]})."""
    types = {}
    samples = {}
    sample_re = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
            continue
        if not line or line.startswith("#"):
            continue
        m = sample_re.match(line)
        if m is None:
            raise AssertionError(f"unparsable /metrics line: {line!r}")
        labels = dict(label_re.findall(m.group(2) or ""))
        samples.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return types, samples
