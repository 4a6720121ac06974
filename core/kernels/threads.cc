#include "core/kernels/threads.h"

#include <omp.h>
#include <unistd.h>

namespace ember {

void SetIntraOpThreads(int threads) {
  if (threads <= 0) {
    const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
    threads = online > 0 ? static_cast<int>(online) : 1;
  }
  omp_set_num_threads(threads);
}

int IntraOpThreads() { return omp_get_max_threads(); }

}  // namespace ember
