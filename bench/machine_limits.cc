#include "bench/machine_limits.h"

#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kernels/vectorize.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ember::bench {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Sixty-four independent lanes (four AVX-512 registers) so the sum is bound by loads, not by the
// latency of one add chain.
EMBER_VECTORIZED float SumFloats(const float* p, size_t n) {
  float acc[64] = {};
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
#pragma omp simd
    for (int j = 0; j < 64; ++j) acc[j] += p[i + static_cast<size_t>(j)];
  }
  float sum = 0.0f;
  for (; i < n; ++i) sum += p[i];
  for (float a : acc) sum += a;
  return sum;
}

// The [begin, end) float range thread `t` of `threads` owns: contiguous, 4 KiB-aligned splits.
std::pair<size_t, size_t> Split(size_t count, int t, int threads) {
  constexpr size_t kAlign = 1024;  // floats per 4 KiB
  const size_t chunks = (count + kAlign - 1) / kAlign;
  const size_t per = chunks / static_cast<size_t>(threads);
  const size_t extra = chunks % static_cast<size_t>(threads);
  const size_t ut = static_cast<size_t>(t);
  const size_t first = ut * per + std::min(ut, extra);
  const size_t last = first + per + (ut < extra ? 1 : 0);
  return {std::min(count, first * kAlign), std::min(count, last * kAlign)};
}

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dt ToDnnl(DType dtype) { return dtype == DType::kBF16 ? dt::bf16 : dt::f32; }

// Fills `bytes` with a repeating 32-bit pattern (a small finite value of the element type), in
// parallel so the pages are first touched by the threads that will read them.
void FillPattern(void* data, size_t bytes, uint32_t pattern) {
  auto* words = static_cast<uint32_t*>(data);
  const int64_t count = static_cast<int64_t>(bytes / sizeof(uint32_t));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) words[i] = pattern;
}

uint32_t SmallValuePattern(DType dtype, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  if (dtype == DType::kBF16) {
    const uint32_t half = bits >> 16;
    return half | (half << 16);
  }
  return bits;
}

}  // namespace

HugePageBuffer::~HugePageBuffer() {
  if (data_ != nullptr) ::munmap(data_, mapped_);
}

HugePageBuffer::HugePageBuffer(HugePageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, mapped_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

absl::StatusOr<HugePageBuffer> HugePageBuffer::Create(size_t bytes) {
  HugePageBuffer buffer;
  if (bytes == 0) return buffer;
  const size_t mapped = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  const size_t span = mapped + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot map ", span, " bytes: ", std::strerror(errno)));
  }
  char* start = static_cast<char*>(raw);
  char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(start) + kHugePage - 1) /
                                          kHugePage * kHugePage);
  if (aligned > start) ::munmap(start, static_cast<size_t>(aligned - start));
  char* end = aligned + mapped;
  if (start + span > end) ::munmap(end, static_cast<size_t>(start + span - end));
  ::madvise(aligned, mapped, MADV_HUGEPAGE);
  buffer.data_ = aligned;
  buffer.size_ = bytes;
  buffer.mapped_ = mapped;
  return buffer;
}

absl::StatusOr<ReadBandwidthProbe> ReadBandwidthProbe::Create(size_t bytes) {
  if (bytes < (size_t{1} << 20)) {
    return absl::InvalidArgumentError(absl::StrCat("bandwidth array of ", bytes,
                                                   " bytes is too "
                                                   "small to stream from DRAM"));
  }
  auto buffer = HugePageBuffer::Create(bytes / sizeof(float) * sizeof(float));
  if (!buffer.ok()) return buffer.status();
  float* data = static_cast<float*>(buffer->data());
  const size_t count = buffer->size() / sizeof(float);
#pragma omp parallel
  {
    const auto [begin, end] = Split(count, omp_get_thread_num(), omp_get_num_threads());
    for (size_t i = begin; i < end; ++i) data[i] = static_cast<float>(i & 1023) * 1e-3f;
  }
  return ReadBandwidthProbe(std::move(*buffer));
}

double ReadBandwidthProbe::Measure(int threads, int runs) const {
  if (threads <= 0) threads = omp_get_max_threads();
  const float* data = static_cast<const float*>(buffer_.data());
  const size_t count = buffer_.size() / sizeof(float);
  double best = std::numeric_limits<double>::infinity();
  volatile float sink = 0.0f;
  for (int r = 0; r < std::max(runs, 1); ++r) {
    float total = 0.0f;
    const double start = Now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      const auto [begin, end] = Split(count, omp_get_thread_num(), omp_get_num_threads());
      total += SumFloats(data + begin, end - begin);
    }
    best = std::min(best, Now() - start);
    sink = sink + total;
  }
  return static_cast<double>(buffer_.size()) / best / 1e9;
}

absl::StatusOr<MatmulRate> MeasureMatmul(const MatmulProblem& p, const MatmulOptions& options) {
  if (p.m <= 0 || p.k <= 0 || p.n <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("matmul sizes must be positive: m=", p.m, " k=", p.k, " n=", p.n));
  }
  if (p.dtype != DType::kF32 && p.dtype != DType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("matmul dtype ", DTypeName(p.dtype), " (use F32 or BF16)"));
  }
  MatmulRate rate;
  rate.problem = p;
  try {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    const dt type = ToDnnl(p.dtype);
    // The packed layout oneDNN picks for a large-M problem, forced for every M: what ember's Linear
    // does, so small M runs the same kernels the engine gets.
    const int64_t layout_m = options.layout_m > 0 ? options.layout_m : std::max<int64_t>(p.m, 256);
    dnnl::matmul::primitive_desc layout_pd(
        dnnl::matmul::desc(dnnl::memory::desc({layout_m, p.k}, type, tag::ab),
                           dnnl::memory::desc({p.k, p.n}, type, tag::any),
                           dnnl::memory::desc({layout_m, p.n}, dt::f32, tag::ab)),
        engine);
    const dnnl::memory::desc weight_md = layout_pd.weights_desc();
    const dnnl::memory::desc src_md({p.m, p.k}, type, tag::ab);
    const dnnl::memory::desc dst_md({p.m, p.n}, dt::f32, tag::ab);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, weight_md, dst_md), engine);
    dnnl::matmul matmul(pd);
    rate.implementation = pd.impl_info_str();
    rate.weight_bytes = weight_md.get_size();

    const size_t stride = (rate.weight_bytes + 4095) / 4096 * 4096;
    size_t copies = 1;
    if (options.cold_bytes > 0) {
      copies = std::clamp<size_t>((options.cold_bytes + stride - 1) / stride, 1, 64);
    }
    auto weights = HugePageBuffer::Create(copies * stride);
    if (!weights.ok()) return weights.status();
    FillPattern(weights->data(), copies * stride, SmallValuePattern(p.dtype, 0.01f));
    const size_t src_bytes = src_md.get_size(), dst_bytes = dst_md.get_size();
    auto src = HugePageBuffer::Create(src_bytes);
    auto dst = HugePageBuffer::Create(dst_bytes);
    if (!src.ok()) return src.status();
    if (!dst.ok()) return dst.status();
    FillPattern(src->data(), src_bytes, SmallValuePattern(p.dtype, 1.0f));
    FillPattern(dst->data(), dst_bytes, 0);

    dnnl::memory src_mem(src_md, engine, src->data());
    dnnl::memory dst_mem(dst_md, engine, dst->data());
    std::vector<std::unordered_map<int, dnnl::memory>> args;
    for (size_t c = 0; c < copies; ++c) {
      dnnl::memory w(weight_md, engine, static_cast<char*>(weights->data()) + c * stride);
      args.push_back({{DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst_mem}});
    }
    auto pass = [&] {
      const double start = Now();
      for (auto& a : args) {
        matmul.execute(stream, a);
        stream.wait();
      }
      return (Now() - start) / static_cast<double>(copies);
    };
    pass();  // warm-up: JIT caches, page tables
    std::vector<double> times;
    double spent = 0;
    for (int passes = 0; passes < 3 || spent < options.min_seconds; ++passes) {
      times.push_back(pass());
      spent += times.back() * static_cast<double>(copies);
    }
    std::sort(times.begin(), times.end());
    rate.seconds = times.front();
    rate.median_seconds = times[times.size() / 2];
  } catch (const dnnl::error& e) {
    return absl::InternalError(
        absl::StrCat("oneDNN matmul m=", p.m, " k=", p.k, " n=", p.n, ": ", e.what()));
  }
  rate.gflops = 2.0 * static_cast<double>(p.m) * static_cast<double>(p.k) *
                static_cast<double>(p.n) / rate.seconds / 1e9;
  rate.weight_gbps = static_cast<double>(rate.weight_bytes) / rate.seconds / 1e9;
  return rate;
}

absl::StatusOr<MatmulRate> MeasurePeakMatmul(DType dtype, double min_seconds) {
  MatmulOptions options;
  options.cold_bytes = 0;
  options.min_seconds = min_seconds;
  absl::StatusOr<MatmulRate> best = absl::InternalError("no peak problem ran");
  for (int64_t kn : {2048, 4096}) {
    auto rate = MeasureMatmul({512, kn, kn, dtype}, options);
    if (!rate.ok()) return rate.status();
    if (!best.ok() || rate->gflops > best->gflops) best = std::move(rate);
  }
  return best;
}

absl::StatusOr<StepGemmRate> MeasureStepGemms(absl::Span<const LinearUse> uses, int64_t m,
                                              DType dtype, const MatmulOptions& options) {
  StepGemmRate step;
  step.m = m;
  for (const LinearUse& use : uses) {
    auto rate = MeasureMatmul({m, use.in, use.out, dtype}, options);
    if (!rate.ok()) return rate.status();
    const double count = static_cast<double>(use.count);
    step.seconds += count * rate->seconds;
    step.median_seconds += count * rate->median_seconds;
    step.flops += count * 2.0 * static_cast<double>(m) * static_cast<double>(use.in) *
                  static_cast<double>(use.out);
    step.weight_bytes += count * static_cast<double>(rate->weight_bytes);
    step.per_use.push_back(std::move(*rate));
  }
  return step;
}

}  // namespace ember::bench
