// A fixed pool of worker threads for data-parallel loops. The calling thread takes part as
// worker 0. A loop is cut into contiguous chunks that threads claim as they finish the
// previous one, so a core slowed by other work does not hold the others back. Kernels
// compute each output on one thread with a fixed order, so which thread takes a chunk never
// changes a value: results do not depend on the thread count or the schedule.
//
// Workers spin for a while after each job before sleeping, so the many small parallel
// loops of a decode step do not pay a wake-up each.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace pangolin {

class ThreadPool {
  public:
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Calls fn(begin, end, thread_index) on disjoint ranges covering [0, n), possibly several
    // ranges per thread. Ranges start at multiples of `grain` so callers can keep blocks whole.
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                      int64_t grain = 1);

    // Calls fn(thread_index) once on every thread.
    void run_on_all(const std::function<void(int)>& fn);

    static int default_threads();

  private:
    void worker_loop(int index);

    int n_threads_;
    std::vector<std::thread> workers_;
    const std::function<void(int)>* job_ = nullptr;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stop_{false};
    alignas(64) std::atomic<int64_t> next_chunk_{0};
};

}  // namespace pangolin
