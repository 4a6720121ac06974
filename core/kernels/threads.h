// Intra-op parallelism. ember's kernels and oneDNN share one OpenMP thread team, so a single
// setting governs both.
#ifndef EMBER_CORE_KERNELS_THREADS_H_
#define EMBER_CORE_KERNELS_THREADS_H_

namespace ember {

// Sets the number of threads each kernel called FROM THIS THREAD may use (OpenMP keeps the setting
// per thread: the engine loop calls this on its own thread). 0 or negative means all online cores.
void SetIntraOpThreads(int threads);

// The calling thread's current setting (>= 1).
int IntraOpThreads();

}  // namespace ember

#endif  // EMBER_CORE_KERNELS_THREADS_H_
