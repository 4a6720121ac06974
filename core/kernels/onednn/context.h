// The process-wide oneDNN CPU engine and stream, and the intra-op thread count. Internal to
// core/kernels/onednn (includes dnnl.hpp).
#ifndef EMBER_CORE_KERNELS_ONEDNN_CONTEXT_H_
#define EMBER_CORE_KERNELS_ONEDNN_CONTEXT_H_

#include "oneapi/dnnl/dnnl.hpp"

namespace ember::onednn {

// The CPU engine and an in-order stream. oneDNN on Debian uses the OpenMP runtime: the stream
// executes synchronously on the calling thread's OpenMP team.
dnnl::engine& CpuEngine();
dnnl::stream& CpuStream();

}  // namespace ember::onednn

#endif  // EMBER_CORE_KERNELS_ONEDNN_CONTEXT_H_
