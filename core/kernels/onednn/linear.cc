#include "core/kernels/onednn/linear.h"

#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/kernels/onednn/context.h"
#include "core/tensor/aligned_buffer.h"
#include "core/tensor/half.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace ember::onednn {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dt ToDnnl(DType dtype) { return dtype == DType::kBF16 ? dt::bf16 : dt::f32; }

absl::Status DnnlError(const dnnl::error& e, absl::string_view what) {
  return absl::InternalError(absl::StrCat("oneDNN ", what, ": ", e.what()));
}

dnnl::memory::desc ActivationDesc(int64_t m, int64_t cols, dt type) {
  return dnnl::memory::desc({m, cols}, type, tag::ab);
}

// The packed weight layout: what oneDNN picks for a large-M problem. The same layout is forced for
// every other M (checked by tests to keep the brgemm implementation at M = 1 too).
absl::StatusOr<dnnl::memory::desc> PackedWeightDesc(const LinearShape& shape) {
  try {
    const dt type = ToDnnl(shape.compute);
    dnnl::memory::desc any({shape.in, shape.out}, type, tag::any);
    const int64_t m = 256;
    dnnl::matmul::desc desc(ActivationDesc(m, shape.in, type), any,
                            ActivationDesc(m, shape.out, dt::f32));
    dnnl::matmul::primitive_desc pd(desc, CpuEngine());
    return pd.weights_desc();
  } catch (const dnnl::error& e) {
    return DnnlError(e, "weight layout query");
  }
}

}  // namespace

struct Linear::Impl {
  // A primitive with its argument memories bound once: a call only re-points src and dst at the
  // caller's buffers. Creating the two memory objects and the argument map on every call cost
  // about 1 us of the ~6 us a small M = 1 matmul takes with its weights in cache (measured on
  // 256 x 256 bf16), paid 89 times per TinyLlama step.
  struct BoundMatmul {
    dnnl::matmul primitive;
    dnnl::memory src, dst;
    std::unordered_map<int, dnnl::memory> args;
  };
  dnnl::memory::desc weight_desc;
  dnnl::memory weights;
  dnnl::memory bias;  // empty when no bias
  // One primitive per (M, accumulate); created by Prepare or on first use.
  absl::flat_hash_map<int64_t, BoundMatmul> primitives;

  // The primitive for (m, accumulate), created if new. Throws dnnl::error. The reference is valid
  // until the next creation.
  BoundMatmul& PrimitiveFor(const LinearShape& shape, int64_t m, bool accumulate);
};

absl::StatusOr<size_t> Linear::StorageBytes(const LinearShape& shape) {
  if (shape.in <= 0 || shape.out <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Linear: sizes must be positive, got in=", shape.in, " out=", shape.out));
  }
  if (shape.compute != DType::kF32 && shape.compute != DType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("Linear: compute type ", DTypeName(shape.compute), " (use F32 or BF16)"));
  }
  auto desc = PackedWeightDesc(shape);
  if (!desc.ok()) return desc.status();
  size_t bytes = RoundUp64(desc->get_size());
  if (shape.has_bias) bytes += RoundUp64(static_cast<size_t>(shape.out) * sizeof(float));
  return bytes;
}

absl::StatusOr<std::unique_ptr<Linear>> Linear::Create(const LinearShape& shape,
                                                       const WeightSource& weights,
                                                       const float* bias, void* storage) {
  auto bytes = StorageBytes(shape);
  if (!bytes.ok()) return bytes.status();
  if (reinterpret_cast<uintptr_t>(storage) % 64 != 0) {
    return absl::InvalidArgumentError("Linear: storage must be 64-byte aligned");
  }
  if (shape.has_bias && bias == nullptr) {
    return absl::InvalidArgumentError("Linear: shape has a bias but none was given");
  }
  auto impl = std::make_unique<Impl>();
  auto desc = PackedWeightDesc(shape);
  if (!desc.ok()) return desc.status();
  impl->weight_desc = *desc;
  try {
    dnnl::engine& engine = CpuEngine();
    // The source as a [K, N] matrix: [out, in] storage is the transpose (tag ba). F32 and BF16
    // checkpoints are reordered straight from the mapping (no temporary copy: it would add its
    // size to the load's peak memory); F16, or a source not aligned to its element, goes through
    // f32 first (oneDNN 2.6 has no general f16 reorder on this CPU).
    const size_t count = static_cast<size_t>(shape.in * shape.out);
    const size_t element = weights.dtype == DType::kF32 ? 4 : 2;
    const bool direct = (weights.dtype == DType::kF32 || weights.dtype == DType::kBF16) &&
                        reinterpret_cast<uintptr_t>(weights.data) % element == 0;
    std::vector<float> converted;
    if (!direct) {
      converted.resize(count);
      WidenToF32(weights.data, weights.dtype, count, converted.data());
    }
    dnnl::memory::desc source_desc({shape.in, shape.out}, direct ? ToDnnl(weights.dtype) : dt::f32,
                                   weights.layout == WeightLayout::kOutIn ? tag::ba : tag::ab);
    dnnl::memory source_mem(source_desc, engine,
                            direct ? const_cast<void*>(weights.data) : converted.data());
    impl->weights = dnnl::memory(impl->weight_desc, engine, storage);
    dnnl::reorder(source_mem, impl->weights).execute(CpuStream(), source_mem, impl->weights);
    CpuStream().wait();
    if (shape.has_bias) {
      auto* bias_storage =
          static_cast<unsigned char*>(storage) + RoundUp64(impl->weight_desc.get_size());
      std::memcpy(bias_storage, bias, static_cast<size_t>(shape.out) * sizeof(float));
      impl->bias = dnnl::memory({{1, shape.out}, dt::f32, tag::ab}, engine, bias_storage);
    }
  } catch (const dnnl::error& e) {
    return DnnlError(e, "weight reorder");
  }
  return std::unique_ptr<Linear>(new Linear(shape, std::move(impl)));
}

Linear::Linear(const LinearShape& shape, std::unique_ptr<Impl> impl)
    : shape_(shape), impl_(std::move(impl)) {}

Linear::~Linear() = default;

namespace {

dnnl::algorithm EltwiseAlgorithm(LinearActivation activation) {
  switch (activation) {
    case LinearActivation::kGeluTanh:
      return dnnl::algorithm::eltwise_gelu_tanh;
    case LinearActivation::kGeluErf:
      return dnnl::algorithm::eltwise_gelu_erf;
    case LinearActivation::kSilu:
      return dnnl::algorithm::eltwise_swish;
    case LinearActivation::kRelu:
      return dnnl::algorithm::eltwise_relu;
    case LinearActivation::kNone:
      break;
  }
  return dnnl::algorithm::undef;
}

}  // namespace

int64_t Linear::RowClass(int64_t m) {
  if (m <= 16) return m;
  if (m <= 64) return (m + 7) / 8 * 8;
  return (m + 31) / 32 * 32;
}

std::vector<int64_t> Linear::RowClassesUpTo(int64_t max_rows) {
  std::vector<int64_t> classes;
  for (int64_t m = 1; m <= max_rows; m = RowClass(m) + 1) classes.push_back(RowClass(m));
  return classes;
}

int64_t Linear::primitives_created() const {
  return static_cast<int64_t>(impl_->primitives.size());
}

absl::Status Linear::Prepare(int64_t m, bool accumulate) {
  if (m <= 0)
    return absl::InvalidArgumentError(absl::StrCat("Linear: m must be positive, got ", m));
  try {
    impl_->PrimitiveFor(shape_, m, accumulate);
  } catch (const dnnl::error& e) {
    return DnnlError(
        e, absl::StrCat("matmul primitive (m=", m, ", in=", shape_.in, ", out=", shape_.out, ")"));
  }
  return absl::OkStatus();
}

Linear::Impl::BoundMatmul& Linear::Impl::PrimitiveFor(const LinearShape& shape, int64_t m,
                                                      bool accumulate) {
  // Key: M in the high bits, accumulate in bit 0.
  const int64_t key = (m << 1) | (accumulate ? 1 : 0);
  auto it = primitives.find(key);
  if (it != primitives.end()) return it->second;
  dnnl::post_ops ops;
  if (shape.activation != LinearActivation::kNone) {
    const float alpha = shape.activation == LinearActivation::kSilu ? 1.0f : 0.0f;
    ops.append_eltwise(1.0f, EltwiseAlgorithm(shape.activation), alpha, 0.0f);
  }
  if (accumulate) ops.append_sum(1.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  const dt src_type = ToDnnl(shape.compute);
  const auto src_desc = ActivationDesc(m, shape.in, src_type);
  const auto dst_desc = ActivationDesc(m, shape.out, dt::f32);
  dnnl::matmul::desc desc =
      shape.has_bias ? dnnl::matmul::desc(src_desc, weight_desc, bias.get_desc(), dst_desc)
                     : dnnl::matmul::desc(src_desc, weight_desc, dst_desc);
  dnnl::matmul::primitive_desc pd(desc, attr, CpuEngine());
  BoundMatmul bound{dnnl::matmul(pd),
                    dnnl::memory(src_desc, CpuEngine(), DNNL_MEMORY_NONE),
                    dnnl::memory(dst_desc, CpuEngine(), DNNL_MEMORY_NONE),
                    {}};
  bound.args = {{DNNL_ARG_SRC, bound.src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, bound.dst}};
  if (shape.has_bias) bound.args.emplace(DNNL_ARG_BIAS, bias);
  return primitives.emplace(key, std::move(bound)).first->second;
}

absl::Status Linear::Forward(const void* x, int64_t m, float* y, bool accumulate) {
  if (m <= 0)
    return absl::InvalidArgumentError(absl::StrCat("Linear: m must be positive, got ", m));
  try {
    Impl::BoundMatmul& bound = impl_->PrimitiveFor(shape_, m, accumulate);
    // The memory objects are shared handles: the ones in `bound.args` see the new pointers.
    bound.src.set_data_handle(const_cast<void*>(x));
    bound.dst.set_data_handle(y);
    bound.primitive.execute(CpuStream(), bound.args);
    CpuStream().wait();
  } catch (const dnnl::error& e) {
    return DnnlError(e,
                     absl::StrCat("matmul (m=", m, ", in=", shape_.in, ", out=", shape_.out, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Linear::ImplementationName(int64_t m) {
  try {
    const dt src_type = ToDnnl(shape_.compute);
    dnnl::matmul::desc desc(ActivationDesc(m, shape_.in, src_type), impl_->weight_desc,
                            ActivationDesc(m, shape_.out, dt::f32));
    dnnl::matmul::primitive_desc pd(desc, CpuEngine());
    return std::string(pd.impl_info_str());
  } catch (const dnnl::error& e) {
    return DnnlError(e, "implementation query");
  }
}

}  // namespace ember::onednn
