#include "core/kernels/onednn/context.h"

namespace ember::onednn {
namespace {

constexpr int kPrimitiveCacheCapacity = 8192;

}  // namespace

dnnl::engine& CpuEngine() {
  static dnnl::engine* engine = [] {
    // Room for every attention panel class up to a long context (PrepareMatmulAttention) besides
    // the projections: evicting one would make a later prompt compile it again.
    dnnl::set_primitive_cache_capacity(kPrimitiveCacheCapacity);
    return new dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return *engine;
}

dnnl::stream& CpuStream() {
  static dnnl::stream* stream = new dnnl::stream(CpuEngine());
  return *stream;
}

}  // namespace ember::onednn
