#include "core/kernels/onednn/matmul_attention.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kernels/convert.h"
#include "core/kernels/fast_math.h"
#include "core/kernels/onednn/context.h"
#include "core/kernels/vectorize.h"
#include "core/tensor/aligned_buffer.h"
#include "dnnl.hpp"

namespace ember::onednn {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// Query tokens per panel. Panel p only multiplies against the keys its last row may see, so the
// masked-out upper triangle costs about 1/(2 x panels) of the work instead of half of it; panels
// much smaller than this would shrink the matmuls below where oneDNN runs at full speed.
constexpr int64_t kPanelTokens = 128;
// A panel's token count is rounded up to a multiple of this (its shape class).
constexpr int64_t kPanelTokenClass = 16;

// The two matmuls for one (query rows, keys) panel shape.
struct PanelPrimitives {
  dnnl::memory::desc q, kt, s, p, v, o;
  dnnl::matmul qk, pv;
};

// Per thread: gathered operands and primitives by shape, built once and reused by every layer and
// step (the engine's loop thread and its OpenMP workers are long-lived).
struct Workspace {
  std::optional<dnnl::stream> stream;  // a stream per thread: streams are not shared across threads
  AlignedBuffer q, k, v, s, p, o;      // grown on demand
  std::vector<float> inv_sum;
  // (dtype, head_dim, rows, keys) -> primitives, for panel shapes rounded to their classes
  // (PanelTokenClass, KeyClass), so the number of shapes is bounded by the context length, not by
  // how many distinct prompt lengths arrive. Cleared past kMaxShapes (a context beyond ~100k);
  // oneDNN's primitive cache then still makes a rebuild a lookup, not a compile.
  std::map<std::tuple<int, int64_t, int64_t, int64_t>, PanelPrimitives> shapes;
};
constexpr size_t kMaxShapes = 4096;

int64_t RoundUp(int64_t n, int64_t multiple) { return (n + multiple - 1) / multiple * multiple; }

void Reserve(AlignedBuffer& buffer, size_t bytes) {
  if (buffer.size() < bytes) buffer = AlignedBuffer(bytes);
}

PanelPrimitives MakePanelPrimitives(DType type, int64_t hd, int64_t rows, int64_t keys) {
  const dt t = type == DType::kBF16 ? dt::bf16 : dt::f32;
  PanelPrimitives p;
  p.q = dnnl::memory::desc({rows, hd}, t, tag::ab);
  p.kt = dnnl::memory::desc({hd, keys}, t, tag::ba);  // K is gathered as [keys, hd]
  p.s = dnnl::memory::desc({rows, keys}, dt::f32, tag::ab);
  p.p = dnnl::memory::desc({rows, keys}, t, tag::ab);
  p.v = dnnl::memory::desc({keys, hd}, t, tag::ab);
  p.o = dnnl::memory::desc({rows, hd}, dt::f32, tag::ab);
  p.qk =
      dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(p.q, p.kt, p.s), CpuEngine()));
  p.pv = dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(p.p, p.v, p.o), CpuEngine()));
  return p;
}

const PanelPrimitives& PrimitivesFor(Workspace& w, DType type, int64_t hd, int64_t rows,
                                     int64_t keys) {
  const auto key = std::make_tuple(static_cast<int>(type), hd, rows, keys);
  auto it = w.shapes.find(key);
  if (it != w.shapes.end()) return it->second;
  if (w.shapes.size() >= kMaxShapes) w.shapes.clear();
  return w.shapes.emplace(key, MakePanelPrimitives(type, hd, rows, keys)).first->second;
}

// Row of scores -> unnormalized probabilities in `type` at p[offset...]: e^(scale s - max) for
// the `visible` keys, 0 for the masked rest. Returns 1 / the sum.
EMBER_VECTORIZED float CausalSoftmaxRow(float* s, int64_t n, int64_t visible, float scale,
                                        DType type, void* p, int64_t offset) {
  float max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : max)
  for (int64_t j = 0; j < visible; ++j) max = std::max(max, s[j] * scale);
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < visible; ++j) {
    s[j] = FastExp(s[j] * scale - max);
    sum += s[j];
  }
  for (int64_t j = visible; j < n; ++j) s[j] = 0.0f;
  StoreAs(type, s, n, p, offset);
  return 1.0f / sum;
}

// Copies `count` elements of `elem_size` bytes.
inline void CopyElements(void* dst, int64_t dst_offset, const void* src, int64_t src_offset,
                         int64_t count, size_t elem_size) {
  std::memcpy(static_cast<char*>(dst) + static_cast<size_t>(dst_offset) * elem_size,
              static_cast<const char*>(src) + static_cast<size_t>(src_offset) * elem_size,
              static_cast<size_t>(count) * elem_size);
}

}  // namespace

int64_t KeyClass(int64_t keys) {
  if (keys <= 256) return RoundUp(keys, 16);
  int64_t octave = 256;  // the largest power of two below keys
  while (octave * 2 < keys) octave *= 2;
  return RoundUp(keys, octave / 8);
}

absl::Status PrepareMatmulAttention(DType type, int64_t head_dim, int64_t group, int64_t max_keys) {
  try {
    for (int64_t keys = 1; keys <= max_keys; keys = KeyClass(keys) + 1) {
      const int64_t key_class = KeyClass(keys);
      for (int64_t tokens = kPanelTokenClass; tokens <= std::min(kPanelTokens, key_class);
           tokens += kPanelTokenClass) {
        // Made and dropped: what stays is oneDNN's cached primitive, which every thread's first
        // use of this shape then finds instead of compiling it.
        MakePanelPrimitives(type, head_dim, tokens * group, key_class);
      }
    }
  } catch (const dnnl::error& e) {
    return absl::InternalError(absl::StrCat("oneDNN attention primitives (head_dim ", head_dim,
                                            ", up to ", max_keys, " keys): ", e.what()));
  }
  return absl::OkStatus();
}

namespace {

// One kv head's attention for the chunk, on the calling thread's workspace and stream (run inside
// the head-parallel region below, oneDNN executes single-threaded; alone, on the whole team).
void AttendHead(const float* q, int64_t q_stride, int64_t num_heads, const AttentionSequence& s,
                const KvLayerView& cache, float scale, DType out_type, void* out,
                int64_t out_stride, int64_t h, Workspace& w) {
  const DType type = cache.dtype;
  const size_t es = DTypeSize(type);
  const int64_t hd = cache.head_dim;
  const int64_t bs = cache.block_size;
  const int64_t group = num_heads / cache.num_kv_heads;
  const int64_t tokens = s.num_rows;
  const int64_t rows = tokens * group;  // query rows of one kv head: (token, head in group)
  const int64_t keys = s.num_keys > 0 ? s.num_keys : s.past + tokens;
  // Panels run at their shape classes: query rows past the panel's tokens and keys past what it
  // sees are padding. Padded keys get probability 0 (the softmax zeroes every masked column), and
  // padded V rows are zeroed below so that 0 x V stays 0; padded query rows give output rows no
  // one reads.
  const int64_t padded_tokens = RoundUp(tokens, kPanelTokenClass);
  const int64_t padded_keys = KeyClass(keys);
  Reserve(w.q, static_cast<size_t>(padded_tokens * group * hd) * es);
  Reserve(w.k, static_cast<size_t>(padded_keys * hd) * es);
  Reserve(w.v, static_cast<size_t>(padded_keys * hd) * es);
  Reserve(w.o, static_cast<size_t>(padded_tokens * group * hd) * sizeof(float));
  const int64_t panel_rows_max = std::min(padded_tokens, kPanelTokens) * group;
  Reserve(w.s, static_cast<size_t>(panel_rows_max * padded_keys) * sizeof(float));
  Reserve(w.p, static_cast<size_t>(panel_rows_max * padded_keys) * es);
  w.inv_sum.resize(static_cast<size_t>(rows));
  if (!w.stream.has_value()) w.stream.emplace(CpuEngine());
  dnnl::stream& stream = *w.stream;

  // Gather this kv head's group of query heads, token-major, and its K and V out of the paged
  // cache (one slab of block_size rows per block).
  for (int64_t t = 0; t < tokens; ++t) {
    StoreAs(type, q + (s.first_row + t) * q_stride + h * group * hd, group * hd, w.q.data(),
            t * group * hd);
  }
  for (int64_t lb = 0, key_blocks = (keys + bs - 1) / bs; lb < key_blocks; ++lb) {
    const int64_t src = ((s.block_table[lb] * cache.num_kv_heads + h) * bs) * hd;
    const int64_t n = std::min(bs, keys - lb * bs);
    CopyElements(w.k.data(), lb * bs * hd, cache.k, src, n * hd, es);
    CopyElements(w.v.data(), lb * bs * hd, cache.v, src, n * hd, es);
  }
  std::memset(static_cast<char*>(w.v.data()) + static_cast<size_t>(keys * hd) * es, 0,
              static_cast<size_t>((padded_keys - keys) * hd) * es);
  for (int64_t t0 = 0; t0 < tokens; t0 += kPanelTokens) {
    const int64_t t1 = std::min(tokens, t0 + kPanelTokens);
    const int64_t panel_rows = (t1 - t0) * group;
    const int64_t class_rows = RoundUp(t1 - t0, kPanelTokenClass) * group;
    // What the panel's last token sees, padded.
    const int64_t panel_keys = KeyClass(s.num_keys > 0 ? s.num_keys : s.past + t1);
    const PanelPrimitives& p = PrimitivesFor(w, type, hd, class_rows, panel_keys);
    char* q_panel = static_cast<char*>(w.q.data()) + static_cast<size_t>(t0 * group * hd) * es;
    dnnl::memory q_mem(p.q, CpuEngine(), q_panel), kt_mem(p.kt, CpuEngine(), w.k.data());
    dnnl::memory s_mem(p.s, CpuEngine(), w.s.data()), p_mem(p.p, CpuEngine(), w.p.data());
    dnnl::memory v_mem(p.v, CpuEngine(), w.v.data());
    dnnl::memory o_mem(p.o, CpuEngine(), w.o.as<float>() + t0 * group * hd);
    p.qk.execute(stream,
                 {{DNNL_ARG_SRC, q_mem}, {DNNL_ARG_WEIGHTS, kt_mem}, {DNNL_ARG_DST, s_mem}});
    stream.wait();
    float* scores = w.s.as<float>();
    for (int64_t r = 0; r < panel_rows; ++r) {
      const int64_t visible = s.num_keys > 0 ? s.num_keys : s.past + t0 + r / group + 1;
      w.inv_sum[static_cast<size_t>(t0 * group + r)] = CausalSoftmaxRow(
          scores + r * panel_keys, panel_keys, visible, scale, type, w.p.data(), r * panel_keys);
    }
    p.pv.execute(stream, {{DNNL_ARG_SRC, p_mem}, {DNNL_ARG_WEIGHTS, v_mem}, {DNNL_ARG_DST, o_mem}});
    stream.wait();
  }
  float* o = w.o.as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float* row = o + r * hd;
    const float inv = w.inv_sum[static_cast<size_t>(r)];
    for (int64_t d = 0; d < hd; ++d) row[d] *= inv;
    const int64_t t = r / group, g = r % group;
    StoreAs(out_type, row, hd, out, (s.first_row + t) * out_stride + (h * group + g) * hd);
  }
}

}  // namespace

absl::Status MatmulAttention(const float* q, int64_t q_stride, int64_t num_heads,
                             const AttentionSequence& s, const KvLayerView& cache, float scale,
                             DType out_type, void* out, int64_t out_stride) {
  // kv heads are independent: one parallel region for the layer, each thread taking whole heads
  // with its own workspace and stream (thread_local inside the region is the worker's own), is far
  // cheaper at prompt sizes than parallelizing each small matmul, gather and softmax in turn.
  std::atomic<bool> failed{false};
  std::string error;
#pragma omp parallel for schedule(dynamic, 1) if (cache.num_kv_heads > 1)
  for (int64_t h = 0; h < cache.num_kv_heads; ++h) {
    thread_local Workspace workspace;
    try {
      if (!failed.load()) {
        AttendHead(q, q_stride, num_heads, s, cache, scale, out_type, out, out_stride, h,
                   workspace);
      }
    } catch (const std::exception& e) {  // oneDNN errors, or bad_alloc of a workspace
#pragma omp critical(ember_matmul_attention_error)
      if (!failed.exchange(true)) error = e.what();
    }
  }
  if (failed.load()) {
    return absl::InternalError(absl::StrCat("oneDNN attention (", s.num_rows, " rows, ",
                                            s.past + s.num_rows, " keys, head_dim ", cache.head_dim,
                                            "): ", error));
  }
  return absl::OkStatus();
}

}  // namespace ember::onednn
