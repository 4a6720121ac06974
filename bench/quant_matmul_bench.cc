// ember_quant_matmul_bench: the decode matmuls of a TinyLlama-shaped model (hidden 2048, FFN 5632,
// 4 KV heads of 64) at batch 1-16, for each weight format: oneDNN bf16 (what ember serves today)
// and the quantized formats (int8 / int4 through QuantLinear). Each figure is printed beside the
// machine's DRAM read bandwidth measured in the same run, right before and after it: weight bytes
// streamed per second over the probe's rate is the fraction of the memory roof reached.
//
// Weights: --layers layers of q, k, v, o, gate, up, down with random values (so the weight set is
// far larger than any cache and every pass streams from DRAM), packed as the engine packs them.
//   ember_quant_matmul_bench [--layers=8] [--rows=1,4,16] [--passes=5] [--threads=0]
//                            [--formats=bf16,int8g128,int4g64]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/machine_limits.h"
#include "core/kernels/convert.h"
#include "core/kernels/onednn/linear.h"
#include "core/kernels/quant/quant_linear.h"
#include "core/kernels/threads.h"
#include "core/tensor/half.h"

ABSL_FLAG(int, layers, 8, "Layers of weights (7 matrices each) streamed per pass");
ABSL_FLAG(std::string, rows, "1,4,16", "Activation rows (batch) to measure");
ABSL_FLAG(int, passes, 5, "Timed passes per (format, rows); the best is reported with the median");
ABSL_FLAG(int, threads, 0, "OpenMP threads (0: as the engine chooses)");
ABSL_FLAG(std::string, formats, "bf16,int8g128,int4g64,int4g32",
          "Weight formats: bf16 (oneDNN), int<bits>g<group> (QuantLinear)");

namespace ember::bench {
namespace {

struct MatrixShape {
  const char* name;
  int64_t out, in;
};
constexpr MatrixShape kLayer[] = {{"q", 2048, 2048},   {"k", 256, 2048},     {"v", 256, 2048},
                                  {"o", 2048, 2048},   {"gate", 5632, 2048}, {"up", 5632, 2048},
                                  {"down", 2048, 5632}};

// One format's weight set: a Forward per matrix, and the bytes a pass streams.
class WeightSet {
 public:
  virtual ~WeightSet() = default;
  virtual void Forward(size_t index, const float* x, int64_t rows, float* y) = 0;
  virtual size_t size() const = 0;
  size_t bytes = 0;
  size_t weights = 0;  // multiply-adds per activation row
};

std::vector<float> RandomMatrix(int64_t out, int64_t in, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> w(static_cast<size_t>(out * in));
  for (float& v : w) v = dist(rng);
  return w;
}

class Bf16Set : public WeightSet {
 public:
  explicit Bf16Set(int layers) {
    std::mt19937 rng(1);
    for (int l = 0; l < layers; ++l) {
      for (const MatrixShape& m : kLayer) {
        onednn::LinearShape shape{m.in, m.out, DType::kBF16};
        const size_t size = *onednn::Linear::StorageBytes(shape);
        auto buffer = *HugePageBuffer::Create(size);
        std::vector<float> w = RandomMatrix(m.out, m.in, rng);
        layers_.push_back(
            *onednn::Linear::Create(shape, {w.data(), DType::kF32}, nullptr, buffer.data()));
        buffers_.push_back(std::move(buffer));
        bytes += size;
        weights += static_cast<size_t>(m.out * m.in);
      }
    }
  }
  void Forward(size_t index, const float* x, int64_t rows, float* y) override {
    onednn::Linear& layer = *layers_[index];
    const int64_t in = layer.shape().in;
    x_bf16_.resize(static_cast<size_t>(rows * in));
    for (int64_t i = 0; i < rows * in; ++i) x_bf16_[i] = FloatToBf16(x[i]);
    (void)layer.Forward(x_bf16_.data(), rows, y);
  }
  size_t size() const override { return layers_.size(); }

 private:
  std::vector<HugePageBuffer> buffers_;
  std::vector<std::unique_ptr<onednn::Linear>> layers_;
  std::vector<uint16_t> x_bf16_;
};

class QuantSet : public WeightSet {
 public:
  QuantSet(int layers, quant::QuantScheme scheme) {
    std::mt19937 rng(1);
    for (int l = 0; l < layers; ++l) {
      for (const MatrixShape& m : kLayer) {
        quant::QuantLinearShape shape{m.in, m.out, scheme};
        const size_t size = *quant::QuantLinear::StorageBytes(shape);
        auto buffer = *HugePageBuffer::Create(size);
        std::vector<float> w = RandomMatrix(m.out, m.in, rng);
        layers_.push_back(*quant::QuantLinear::Create(
            shape, {w.data(), DType::kF32, m.out, m.in, false}, nullptr, buffer.data()));
        buffers_.push_back(std::move(buffer));
        bytes += size;
        weights += static_cast<size_t>(m.out * m.in);
      }
    }
  }
  void Forward(size_t index, const float* x, int64_t rows, float* y) override {
    (void)layers_[index]->Forward(x, rows, y);
  }
  size_t size() const override { return layers_.size(); }

 private:
  std::vector<HugePageBuffer> buffers_;
  std::vector<std::unique_ptr<quant::QuantLinear>> layers_;
};

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

int Run() {
  SetIntraOpThreads(absl::GetFlag(FLAGS_threads));
  const int threads = IntraOpThreads();
  auto probe = ReadBandwidthProbe::Create();
  if (!probe.ok()) {
    std::fprintf(stderr, "bandwidth probe: %s\n", probe.status().ToString().c_str());
    return 1;
  }
  std::vector<int64_t> rows;
  for (absl::string_view r : absl::StrSplit(absl::GetFlag(FLAGS_rows), ',')) {
    int64_t v = 0;
    if (absl::SimpleAtoi(r, &v) && v > 0) rows.push_back(v);
  }
  std::printf("threads %d, quantized kernel %s, %d layers of TinyLlama-shaped matrices\n", threads,
              quant::QuantKernelName(quant::BestQuantKernel()), absl::GetFlag(FLAGS_layers));
  std::printf("%-10s %4s %10s %10s %10s %10s %8s %12s %10s\n", "format", "rows", "MB/pass",
              "ms (best)", "ms (med)", "GB/s best", "probe", "best/probe", "GFLOP/s");
  const int64_t max_rows = rows.empty() ? 1 : *std::max_element(rows.begin(), rows.end());
  std::vector<float> x(static_cast<size_t>(5632 * max_rows)),
      y(static_cast<size_t>(5632 * max_rows));
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& v : x) v = dist(rng);
  for (absl::string_view format : absl::StrSplit(absl::GetFlag(FLAGS_formats), ',')) {
    std::unique_ptr<WeightSet> set;
    int bits = 0, group = 0;
    if (format == "bf16") {
      set = std::make_unique<Bf16Set>(absl::GetFlag(FLAGS_layers));
    } else if (std::sscanf(std::string(format).c_str(), "int%dg%d", &bits, &group) == 2 &&
               quant::ValidateScheme({bits, group}).ok()) {
      set =
          std::make_unique<QuantSet>(absl::GetFlag(FLAGS_layers), quant::QuantScheme{bits, group});
    } else {
      std::fprintf(stderr, "unknown format %s\n", std::string(format).c_str());
      return 2;
    }
    for (int64_t m : rows) {
      for (size_t i = 0; i < set->size(); ++i) set->Forward(i, x.data(), m, y.data());  // warm
      std::vector<double> times;
      double probe_sum = 0;
      for (int p = 0; p < absl::GetFlag(FLAGS_passes); ++p) {
        const double before = probe->Measure(threads, 1);
        const auto start = std::chrono::steady_clock::now();
        for (size_t i = 0; i < set->size(); ++i) set->Forward(i, x.data(), m, y.data());
        times.push_back(Seconds(start, std::chrono::steady_clock::now()));
        probe_sum += (before + probe->Measure(threads, 1)) / 2;
      }
      std::sort(times.begin(), times.end());
      const double probe_gbps = probe_sum / static_cast<double>(times.size());
      const double best_gbps = static_cast<double>(set->bytes) / times.front() / 1e9;
      const double gflops =
          2.0 * static_cast<double>(m) * static_cast<double>(set->weights) / times.front() / 1e9;
      std::printf("%-10s %4lld %10.1f %10.2f %10.2f %10.1f %8.1f %12.2f %10.1f\n",
                  std::string(format).c_str(), static_cast<long long>(m),
                  static_cast<double>(set->bytes) / 1e6, times.front() * 1e3,
                  times[times.size() / 2] * 1e3, best_gbps, probe_gbps, best_gbps / probe_gbps,
                  gflops);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return ember::bench::Run();
}
