#include "core/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace pangolin {

namespace {
inline void cpu_relax() {
#if defined(__x86_64__)
    _mm_pause();
#endif
}
constexpr int k_spin_iterations = 2000;
}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    stop_.store(true);
    generation_.fetch_add(1);
    generation_.notify_all();
    for (auto& t : workers_) t.join();
}

int ThreadPool::default_threads() {
    if (const char* env = std::getenv("PANGOLIN_THREADS")) {
        const int n = std::atoi(env);
        if (n > 0) return n;
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
        uint64_t gen = generation_.load(std::memory_order_acquire);
        for (int spin = 0; gen == seen && spin < k_spin_iterations; ++spin) {
            cpu_relax();
            gen = generation_.load(std::memory_order_acquire);
        }
        while (gen == seen) {
            generation_.wait(seen, std::memory_order_acquire);
            gen = generation_.load(std::memory_order_acquire);
        }
        seen = gen;
        if (stop_.load()) return;
        (*job_)(index);
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
}

void ThreadPool::run_on_all(const std::function<void(int)>& fn) {
    if (n_threads_ == 1) {
        fn(0);
        return;
    }
    job_ = &fn;
    pending_.store(n_threads_ - 1, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    generation_.notify_all();
    fn(0);
    // Spin briefly (the usual case: workers finish together), then sleep so that an
    // oversubscribed machine does not burn the time slice the workers need.
    int left = pending_.load(std::memory_order_acquire);
    for (int spin = 0; left != 0 && spin < k_spin_iterations; ++spin) {
        cpu_relax();
        left = pending_.load(std::memory_order_acquire);
    }
    while (left != 0) {
        pending_.wait(left, std::memory_order_acquire);
        left = pending_.load(std::memory_order_acquire);
    }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                              int64_t grain) {
    if (n <= 0) return;
    grain = std::max<int64_t>(1, grain);
    const int64_t units = (n + grain - 1) / grain;
    const int64_t workers = std::min<int64_t>(n_threads_, units);
    if (workers <= 1) {
        fn(0, n, 0);
        return;
    }
    // about 4 chunks per thread: small enough to even out a slowed core, large enough
    // that each stays a long contiguous stream
    const int64_t n_chunks = std::min<int64_t>(units, workers * 4);
    next_chunk_.store(0, std::memory_order_relaxed);
    run_on_all([&](int t) {
        if (t >= workers) return;
        for (;;) {
            const int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
            if (c >= n_chunks) return;
            const int64_t u0 = units * c / n_chunks, u1 = units * (c + 1) / n_chunks;
            const int64_t b = u0 * grain, e = std::min(n, u1 * grain);
            if (b < e) fn(b, e, t);
        }
    });
}

}  // namespace pangolin
