"""A real Prometheus (Debian's `prometheus`) scrapes a real ember_server while traffic runs.

The Prometheus configuration is deploy/prometheus.yml itself, with only its target moved to the
test's server and the scrape interval shortened to 1 s. Traffic runs in rounds, each waiting for
Prometheus to scrape its result, so the stored series hold every intermediate count. Then the
test queries Prometheus' HTTP API: the ember series carry exactly the counts of the traffic sent,
and every query of the Grafana dashboard is valid PromQL that returns data.
"""
import json
import os
import re
import shutil
import tempfile
import unittest
import urllib.parse

import yaml

import deploy_util as du

ROUNDS = 3
REQUESTS_PER_ROUND = 3  # streaming, through `ember_cli bench`
MAX_NEW_TOKENS = 16
PROMPT = "Once upon a time"
SCRAPE_TIMEOUT_S = 30  # for one new scrape to show up in a query (interval 1 s)


def dashboard_queries():
    path = du.source_path("deploy", "grafana", "dashboards", "ember.json")
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    # Grafana's variables, as the dashboard's defaults resolve them ($instance: All).
    return [e.replace('"$instance"', '".*"').replace("$__rate_interval", "1m") for e in exprs]


class Prometheus(du.Process):
    """prometheus on a free port (it cannot report a port it picked itself)."""

    def __init__(self, config_path, data_dir):
        self.port = du.free_port()
        super().__init__([du.require_tool("prometheus", "apt-get install prometheus",
                                          "EMBER_PROMETHEUS"),
                          f"--config.file={config_path}", f"--storage.tsdb.path={data_dir}",
                          f"--web.listen-address=127.0.0.1:{self.port}",
                          "--log.level=warn"],
                         name="prometheus")
        self.url = f"http://127.0.0.1:{self.port}"

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited {self.proc.returncode}:\n{self.log.text()}")
        try:
            return du.http_get(self.url + "/-/ready", timeout=2).strip() != ""
        except OSError:
            return False

    def query(self, promql):
        """An instant query -> [(labels, value)]; the query must be valid."""
        body = du.http_get(self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        response = json.loads(body)
        if response.get("status") != "success":
            raise AssertionError(f"query {promql!r} failed: {body}")
        data = response["data"]
        if data["resultType"] == "vector":
            return [(r["metric"], float(r["value"][1])) for r in data["result"]]
        if data["resultType"] == "matrix":
            return [(r["metric"], [float(v) for _, v in r["values"]]) for r in data["result"]]
        return [({}, float(data["result"][1]))]

    def value(self, promql):
        """The single value of a query that must return one series (None while it returns none)."""
        result = self.query(promql)
        if not result:
            return None
        if len(result) != 1:
            raise AssertionError(f"{promql!r} returned {len(result)} series: {result}")
        return result[0][1]

    def wait_value(self, promql, expected):
        du.poll(lambda: self.value(promql) == expected, SCRAPE_TIMEOUT_S,
                f"Prometheus: {promql} == {expected}")


class PrometheusScrapeTest(unittest.TestCase):
    def start_prometheus(self, config_path, data_dir):
        """Retries when another process took the free port between the pick and the bind."""
        for attempt in range(3):
            prometheus = Prometheus(config_path, data_dir)
            self.addCleanup(prometheus.kill)
            try:
                du.poll(prometheus.ready, du.START_TIMEOUT_S, "Prometheus /-/ready")
                return prometheus
            except AssertionError:
                if attempt == 2 or "address already in use" not in prometheus.log.text():
                    raise
        raise AssertionError("unreachable")

    def test_prometheus_scrapes_ember_with_the_deploy_config(self):
        promtool = du.require_tool("promtool", "apt-get install prometheus", "EMBER_PROMTOOL")
        committed = du.source_path("deploy", "prometheus.yml")
        du.run([promtool, "check", "config", committed])
        tmp = tempfile.mkdtemp(prefix="ember-prometheus-")
        self.addCleanup(shutil.rmtree, tmp, True)

        server = du.EmberServer()
        self.addCleanup(server.kill)

        # deploy/prometheus.yml with its one target moved to this server, scraped every second.
        with open(committed, encoding="utf-8") as f:
            config = yaml.safe_load(f)
        config["global"]["scrape_interval"] = "1s"
        config["global"]["evaluation_interval"] = "1s"
        jobs = config["scrape_configs"]
        self.assertEqual([j["job_name"] for j in jobs], ["ember"])
        targets = [t for sc in jobs[0]["static_configs"] for t in sc["targets"]]
        self.assertEqual(len(targets), 1, targets)
        for sc in jobs[0]["static_configs"]:
            sc["targets"] = [f"127.0.0.1:{server.metrics_port}"]
        config_path = os.path.join(tmp, "prometheus.yml")
        with open(config_path, "w", encoding="utf-8") as f:
            yaml.safe_dump(config, f)
        du.run([promtool, "check", "config", config_path])

        prometheus = self.start_prometheus(config_path, os.path.join(tmp, "data"))
        instance = f"127.0.0.1:{server.metrics_port}"
        prometheus.wait_value(f'up{{job="ember",instance="{instance}"}}', 1.0)

        # Baselines: the server's warm-up request is already counted.
        length = 'ember_requests_total{finish_reason="length"}'
        counters = [length, "sum(ember_requests_total)", "ember_generated_tokens_total",
                    "ember_prompt_tokens_total", "ember_time_to_first_token_seconds_count",
                    "ember_inter_token_latency_seconds_count",
                    "ember_request_duration_seconds_count"]
        base = {name: prometheus.value(name) for name in counters}
        self.assertNotIn(None, base.values(), base)

        # One unary call tells the prompt's length in tokens; one invalid call is refused.
        unary = json.loads(server.cli("generate", f"--prompt={PROMPT}",
                                      f"--max_new_tokens={MAX_NEW_TOKENS}", "--temperature=0",
                                      "--ignore_eos", "--json").stdout)
        prompt_tokens = unary["usage"]["prompt_tokens"]
        refused = server.cli("generate", f"--prompt={PROMPT}", "--top_p=1.5", check=False)
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertIn("INVALID_ARGUMENT", refused.stderr)
        requests = 1
        prometheus.wait_value(length, base[length] + requests)

        for _ in range(ROUNDS):
            bench = server.cli("bench", f"--prompt={PROMPT}", f"--max_new_tokens={MAX_NEW_TOKENS}",
                               "--temperature=0", "--ignore_eos", "--concurrency=2",
                               f"--requests={REQUESTS_PER_ROUND}", "--json")
            self.assertEqual(json.loads(bench.stdout)["requests_ok"], REQUESTS_PER_ROUND)
            requests += REQUESTS_PER_ROUND
            # Prometheus scrapes between rounds: the next round starts once it saw this one.
            prometheus.wait_value(length, base[length] + requests)

        # Every intermediate count was stored: Prometheus scraped while the traffic ran.
        stored = prometheus.query(f"{length}[5m]")
        self.assertEqual(len(stored), 1, stored)
        seen = set(stored[0][1])
        for step in range(ROUNDS + 1):
            count = base[length] + 1 + step * REQUESTS_PER_ROUND
            self.assertIn(count, seen, f"stored samples {sorted(seen)}")

        # The series hold exactly the traffic sent.
        expected = {
            length: requests,
            "sum(ember_requests_total)": requests,
            "ember_generated_tokens_total": requests * MAX_NEW_TOKENS,
            "ember_prompt_tokens_total": requests * prompt_tokens,
            "ember_time_to_first_token_seconds_count": requests,
            "ember_inter_token_latency_seconds_count": requests * (MAX_NEW_TOKENS - 1),
            "ember_request_duration_seconds_count": requests,
        }
        for name, delta in expected.items():
            prometheus.wait_value(name, base[name] + delta)
        prometheus.wait_value('ember_rpcs_total{method="Generate",code="OK"}', 1.0)
        prometheus.wait_value('ember_rpcs_total{method="Generate",code="INVALID_ARGUMENT"}', 1.0)
        prometheus.wait_value('ember_rpcs_total{method="GenerateStream",code="OK"}',
                              float(ROUNDS * REQUESTS_PER_ROUND))
        prometheus.wait_value('ember_model_info{model="kjv-llama",dtype="F32"}', 1.0)
        prometheus.wait_value("ember_requests_running + ember_requests_waiting", 0.0)
        self.assertGreater(prometheus.value("ember_kv_cache_blocks_total"), 0)
        labels = prometheus.query("ember_generated_tokens_total")[0][0]
        self.assertEqual((labels["job"], labels["instance"]), ("ember", instance))

        # Every dashboard query is valid PromQL and returns data from these series.
        for expr in dashboard_queries():
            du.poll(lambda: prometheus.query(expr), SCRAPE_TIMEOUT_S,
                    f"dashboard query to return data: {expr}")

        self.assertEqual(prometheus.stop(), 0, prometheus.log.text())
        self.assertEqual(server.stop(), 0, server.log.text())
        self.assertNotRegex(prometheus.log.text(), re.compile(r"level=error"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
