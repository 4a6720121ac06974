// Micro-experiments that back the profile's recommendations with numbers: a core kernel timed
// beside an alternative (a prototype of a suggested change, or the version it replaced), on the
// model's shapes. Alternatives live here, not in core/, and are not used by the engine.
#ifndef EMBER_BENCH_ENGINE_BENCH_EXPERIMENTS_H_
#define EMBER_BENCH_ENGINE_BENCH_EXPERIMENTS_H_

#include <cstdint>
#include <ostream>

#include "core/tensor/dtype.h"

namespace ember::bench {

// Core SiluMul (FastExp) against the same loop with std::exp, as core had it before commit
// ca3b6d9, at `rows` x `n`; prints ms per call and per step (x layers) for each.
void RunSiluMulExperiment(int64_t rows, int64_t n, int64_t layers, DType out, std::ostream& log);

}  // namespace ember::bench

#endif  // EMBER_BENCH_ENGINE_BENCH_EXPERIMENTS_H_
