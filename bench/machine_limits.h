// This machine's limits, measured in-process so a benchmark can print each figure beside the bound
// it is chasing, taken in the same run (the machine is shared: its DRAM bandwidth swings ~2x over
// minutes as other tenants load the memory bus, so a bound measured at another time would not
// judge this run's figures). Two kinds of limit:
//   - DRAM read bandwidth: a streaming sum over a >= 1 GiB array (the decode roof).
//   - oneDNN matmul throughput: the large-M GEMM peak (the prefill roof) and the rate at small M
//     for a model's own weight shapes with weights streamed from DRAM (the batched-decode roof).
// Measurements use the calling thread's OpenMP team, i.e. SetIntraOpThreads() decides the threads.
#ifndef EMBER_BENCH_MACHINE_LIMITS_H_
#define EMBER_BENCH_MACHINE_LIMITS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/tensor/dtype.h"

namespace ember::bench {

// Anonymous, 2 MiB-aligned memory advised for transparent huge pages, as the model's weight arena
// is, so a bound measured over it is comparable with what the engine reads.
class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  ~HugePageBuffer();
  HugePageBuffer(HugePageBuffer&& other) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& other) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  // RESOURCE_EXHAUSTED when the mapping fails. The pages are not touched.
  static absl::StatusOr<HugePageBuffer> Create(size_t bytes);

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;    // what the caller asked for
  size_t mapped_ = 0;  // size_ rounded up to 2 MiB
};

// Streams reads over one large array. Keeps the array so repeated measurements (start and end of a
// benchmark, to show drift) do not pay the page faults again.
class ReadBandwidthProbe {
 public:
  // `bytes` of float data, first-touched in parallel with the same static split the sum uses.
  static absl::StatusOr<ReadBandwidthProbe> Create(size_t bytes = size_t{1} << 30);

  // Best of `runs` passes, each a full sum over the array on `threads` OpenMP threads (0: the
  // calling thread's current setting). GB/s, 1e9 bytes per second.
  double Measure(int threads = 0, int runs = 5) const;

  size_t bytes() const { return buffer_.size(); }

 private:
  explicit ReadBandwidthProbe(HugePageBuffer buffer) : buffer_(std::move(buffer)) {}
  HugePageBuffer buffer_;
};

// One oneDNN matmul: dst[m, n] (f32) = src[m, k] (dtype) x W[k, n] (dtype, packed via
// format_tag::any, the layout ember's Linear uses).
struct MatmulProblem {
  int64_t m = 0;
  int64_t k = 0;
  int64_t n = 0;
  DType dtype = DType::kF32;  // F32 or BF16
};

struct MatmulRate {
  MatmulProblem problem;
  double seconds = 0;  // best time of one call (fastest pass over the copies)
  // Median pass: what the machine's noise costs the same work.
  double median_seconds = 0;
  double gflops = 0;           // 2 m k n / seconds / 1e9
  double weight_gbps = 0;      // packed weight bytes / seconds / 1e9
  size_t weight_bytes = 0;     // packed size of one copy of W
  std::string implementation;  // oneDNN's impl_info_str(), e.g. "brg:avx512_core_bf16"
};

struct MatmulOptions {
  // Copies of W cycled through so that W streams from DRAM as a model's weights do: enough copies
  // to cover this many bytes (at least 1, at most 64). 0: a single copy, hot in cache when it fits.
  size_t cold_bytes = size_t{512} << 20;
  // Keep timing passes (over all copies) until this much time has been spent, at least 3 passes.
  double min_seconds = 0.3;
  // Rows the packed weight layout is chosen for (format_tag::any). 0: max(m, 256), which is what
  // ember's Linear does (one layout for every M).
  int64_t layout_m = 0;
};

// Times one problem; INVALID_ARGUMENT for a bad shape or dtype, INTERNAL for a oneDNN error.
absl::StatusOr<MatmulRate> MeasureMatmul(const MatmulProblem& problem,
                                         const MatmulOptions& options);

// The large-M GEMM peak for `dtype`: the best of M = 512 with K = N in {2048, 4096} and weights
// hot (compute bound): the roof a prefill step's matmuls can reach.
absl::StatusOr<MatmulRate> MeasurePeakMatmul(DType dtype, double min_seconds = 0.5);

// A weight matrix of a model and how many times one forward step uses it (e.g. num_layers).
struct LinearUse {
  std::string name;  // "qkv", "attn_out", "mlp_in", "mlp_out", "lm_head"
  int64_t in = 0;    // K
  int64_t out = 0;   // N
  int64_t count = 1;
};

// oneDNN alone doing one forward step's matmuls at M rows, weights streaming from DRAM.
struct StepGemmRate {
  int64_t m = 0;
  double seconds = 0;         // one step: sum over uses of count x best time per call
  double median_seconds = 0;  // the same from median passes
  double flops = 0;           // 2 m sum(count k n)
  double weight_bytes = 0;    // sum(count x packed bytes)
  double gflops() const { return seconds > 0 ? flops / seconds / 1e9 : 0; }
  double weight_gbps() const { return seconds > 0 ? weight_bytes / seconds / 1e9 : 0; }
  std::vector<MatmulRate> per_use;  // in the order of `uses`
};

absl::StatusOr<StepGemmRate> MeasureStepGemms(absl::Span<const LinearUse> uses, int64_t m,
                                              DType dtype, const MatmulOptions& options);

}  // namespace ember::bench

#endif  // EMBER_BENCH_MACHINE_LIMITS_H_
