"""The Grafana dashboard and README's metrics table against a live ember /metrics.

- Every ember_* name any dashboard query (panel or template variable) uses is exposed by a live
  server that has served traffic, with the type the query assumes: rate() only over counters or a
  histogram's series, histogram_quantile() only over a histogram's _bucket series by le.
- The dashboard shows what an operator needs: requests by outcome, time-to-first-token
  and inter-token latency quantiles, generated tokens/s, running and waiting requests, tokens per
  step, KV-cache use; and every panel uses the provisioned datasource.
- README.md's metrics table lists exactly the live ember_* metrics, with their types and labels.
"""
import json
import re
import unittest

import yaml

import deploy_util as du

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def read(*parts):
    with open(du.source_path(*parts), encoding="utf-8") as f:
        return f.read()


def dashboard_queries(dashboard):
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        queries.append(query["query"] if isinstance(query, dict) else query)
    return queries


def family_of(name, types):
    """The metric family a series name belongs to (histogram series carry a suffix)."""
    if name in types:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return None


class DashboardMetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboard = json.loads(read("deploy", "grafana", "dashboards", "ember.json"))
        cls.queries = dashboard_queries(cls.dashboard)
        # A live server after one unary and one streaming call: labelled series (per RPC method
        # and status code) exist only once something was counted.
        with du.EmberServer() as server:
            server.cli("generate", "--prompt=Hello", "--max_new_tokens=4", "--temperature=0")
            server.cli("generate", "--prompt=Hello", "--max_new_tokens=4", "--temperature=0",
                       "--stream")
            cls.types, cls.samples = du.parse_metrics(du.http_get(server.metrics_url))

    def test_every_dashboard_metric_is_live(self):
        names = sorted({n for q in self.queries for n in re.findall(r"\bember_[a-z0-9_]+", q)})
        self.assertGreaterEqual(len(names), 15, names)
        for name in names:
            self.assertIsNotNone(family_of(name, self.types),
                                 f"dashboard queries {name}, which /metrics does not define")
            self.assertIn(name, self.samples, f"dashboard queries {name}; no such live series")

    def test_functions_match_metric_types(self):
        for query in self.queries:
            for name in re.findall(r"\b(?:rate|increase)\((ember_[a-z0-9_]+)", query):
                kind = self.types[family_of(name, self.types)]
                self.assertIn(kind, ("counter", "histogram"), f"rate() over a {kind}: {query}")
                if kind == "histogram":
                    self.assertTrue(name.endswith(HISTOGRAM_SUFFIXES), query)
            for inner in re.findall(r"histogram_quantile\(\s*[\d.]+\s*,(.*)\)\s*$", query):
                names = re.findall(r"\bember_[a-z0-9_]+", inner)
                self.assertTrue(names, query)
                for name in names:
                    self.assertTrue(name.endswith("_bucket"), query)
                    self.assertEqual(self.types[family_of(name, self.types)], "histogram")
                self.assertRegex(inner, r"\bby \(le\)", query)
            # Bare histogram families are not series.
            for name in re.findall(r"\bember_[a-z0-9_]+", query):
                if self.types.get(name) == "histogram":
                    self.fail(f"{name} is a histogram; query one of its series: {query}")

    def test_dashboard_shows_the_required_views(self):
        text = "\n".join(self.queries)
        required = {
            "request rate by outcome":
                r"sum by \(finish_reason\) \(rate\(ember_requests_total",
            "time-to-first-token quantiles":
                r"histogram_quantile\(0\.\d+, .*ember_time_to_first_token_seconds_bucket",
            "inter-token latency quantiles":
                r"histogram_quantile\(0\.\d+, .*ember_inter_token_latency_seconds_bucket",
            "generated tokens/s": r"rate\(ember_generated_tokens_total",
            "running requests": r"ember_requests_running",
            "waiting requests": r"ember_requests_waiting",
            "tokens per step": r"ember_step_tokens_(bucket|sum)",
            "KV-cache use":
                r"ember_kv_cache_blocks_used\{[^}]*\}\) / sum.*ember_kv_cache_blocks_total",
        }
        for view, pattern in required.items():
            self.assertRegex(text, pattern, f"the dashboard lacks {view}")

    def test_panels_use_the_provisioned_datasource(self):
        provisioning = yaml.safe_load(read("deploy", "grafana", "provisioning", "datasources",
                                           "prometheus.yaml"))
        uids = {d["uid"] for d in provisioning["datasources"] if d["type"] == "prometheus"}
        self.assertEqual(len(uids), 1)
        uid = uids.pop()
        ids = [p["id"] for p in self.dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids are unique")
        for panel in self.dashboard["panels"]:
            self.assertEqual(panel["datasource"]["uid"], uid, panel["title"])
            self.assertTrue(panel["targets"], panel["title"])
            for target in panel["targets"]:
                self.assertEqual(target["datasource"]["uid"], uid, panel["title"])
            grid = panel["gridPos"]
            self.assertLessEqual(grid["x"] + grid["w"], 24, panel["title"])
        for variable in self.dashboard["templating"]["list"]:
            self.assertEqual(variable["datasource"]["uid"], uid)

    def test_readme_metrics_table_matches_live_metrics(self):
        readme = read("README.md")
        rows = re.findall(r"^\|\s*`(ember_[a-z0-9_]+)`\s*\|\s*(\w+)\s*\|([^|]*)\|[^|]+\|\s*$",
                          readme, re.M)
        table = {name: (kind, set(re.findall(r"`(\w+)`", labels))) for name, kind, labels in rows}
        live = {}
        for family, kind in self.types.items():
            if not family.startswith("ember_"):
                continue
            labels = set()
            for sample_name, samples in self.samples.items():
                if family_of(sample_name, self.types) == family:
                    for sample_labels, _ in samples:
                        labels |= set(sample_labels) - {"le"}
            live[family] = (kind, labels)
        self.assertEqual(len(live), 22, sorted(live))
        self.maxDiff = None
        self.assertEqual(table, live, "README.md's metrics table vs the live /metrics")


if __name__ == "__main__":
    unittest.main(verbosity=2)
