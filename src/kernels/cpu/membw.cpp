#include "kernels/cpu/membw.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace pangolin {

namespace {

// Sum of the buffer as 64-bit words, 4 × 16 bytes per step (SSE2 is the baseline; plain
// loads reach the memory bandwidth at any vector width).
uint64_t read_range(const uint8_t* p, size_t n) {
#if defined(__x86_64__)
    __m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a = _mm_add_epi64(a, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i)));
        b = _mm_add_epi64(b, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 16)));
        c = _mm_add_epi64(c, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 32)));
        d = _mm_add_epi64(d, _mm_load_si128(reinterpret_cast<const __m128i*>(p + i + 48)));
    }
    const __m128i s = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
    uint64_t out[2];
    std::memcpy(out, &s, 16);
    return out[0] + out[1];
#else
    uint64_t s = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        s += v;
    }
    return s;
#endif
}

}  // namespace

double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int passes) {
    bytes = bytes / 4096 * 4096;
    struct Free {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    std::unique_ptr<uint8_t, Free> buf(static_cast<uint8_t*>(std::aligned_alloc(4096, bytes)));
    if (!buf) throw std::bad_alloc();
    // touch every page from the thread that will read it
    const int64_t pages = int64_t(bytes / 4096);
    pool.parallel_for(pages, [&](int64_t b, int64_t e, int) {
        std::memset(buf.get() + b * 4096, 1, size_t(e - b) * 4096);
    });
    double best = 0;
    volatile uint64_t sink = 0;
    for (int pass = 0; pass < passes + 1; ++pass) {
        std::atomic<uint64_t> total{0};
        const auto t0 = std::chrono::steady_clock::now();
        pool.parallel_for(pages, [&](int64_t b, int64_t e, int) {
            total += read_range(buf.get() + b * 4096, size_t(e - b) * 4096);
        });
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        sink = sink + total.load();
        if (pass > 0) best = std::max(best, double(bytes) / s);  // pass 0 warms up
    }
    return best;
}

}  // namespace pangolin
