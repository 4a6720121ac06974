// EMBER_VECTORIZED marks a hot loop function for per-CPU code generation: GCC compiles it for
// x86-64-v4 (AVX-512), x86-64-v3 (AVX2/FMA) and the baseline, and picks one at load time (ifunc).
// This keeps the binary portable (the Docker image runs anywhere) while the loops run at the width
// of the CPU they find. Apply it to leaf functions without OpenMP regions: the parallel loop calls
// the marked function per row.
#ifndef EMBER_CORE_KERNELS_VECTORIZE_H_
#define EMBER_CORE_KERNELS_VECTORIZE_H_

// Not under ThreadSanitizer: an ifunc resolver runs while the dynamic loader relocates the binary,
// before the TSan runtime is up, and its instrumented prologue crashes there.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define EMBER_VECTORIZED \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EMBER_VECTORIZED
#endif

#endif  // EMBER_CORE_KERNELS_VECTORIZE_H_
