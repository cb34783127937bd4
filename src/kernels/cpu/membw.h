// Memory read bandwidth as the matrix kernels see it: every thread of the pool streams its
// share of a buffer far larger than the caches. The ceiling that decode speed is measured
// against (tokens/s ≤ bandwidth ÷ weight bytes read per token).
#pragma once

#include <cstddef>

#include "core/thread_pool.h"

namespace pangolin {

// Best of `passes` full reads of a `bytes`-sized buffer, in bytes per second.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t(1) << 30, int passes = 5);

}  // namespace pangolin
