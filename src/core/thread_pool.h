// A fixed pool of worker threads for data-parallel loops. The calling thread takes part as
// worker 0. Work is split into contiguous static ranges, so which thread computes an output
// never changes its value: results do not depend on the thread count.
//
// Workers spin for a short while after each job before sleeping, so the many small
// parallel loops of a decode step do not pay a wake-up each.
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

    // Calls fn(begin, end, thread_index) on disjoint ranges covering [0, n). Ranges are
    // multiples of `grain` (except the last) so callers can keep blocks whole.
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
};

}  // namespace pangolin
