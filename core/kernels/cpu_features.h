// What the CPU can do, as oneDNN sees it (so ember's defaults agree with what oneDNN dispatches).
#ifndef EMBER_CORE_KERNELS_CPU_FEATURES_H_
#define EMBER_CORE_KERNELS_CPU_FEATURES_H_

#include <string>

namespace ember {

// True when oneDNN runs bf16 matmuls natively (avx512_bf16 or AMX): then bf16 weights are the
// default. Without it bf16 would be emulated and slower than f32.
bool CpuHasNativeBf16();

// oneDNN's name for the instruction set it dispatches to, e.g. "avx512_core_bf16".
std::string CpuIsaName();

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_CPU_FEATURES_H_
