// Kernel micro-benchmarks (Google Benchmark): matrix-vector products per weight type,
// reported as GB/s of weight bytes read.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu/matmul.h"

using namespace pangolin;

namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> b(n);
    for (auto& x : b) x = uint8_t(rng());
    return b;
}

void BM_matvec(benchmark::State& state, DType type) {
    const int64_t rows = 4096, cols = 4096;
    TensorView t;
    t.name = "w";
    t.type = type;
    t.shape = {rows, cols};
    t.nbytes = dtype_row_bytes(type, cols) * rows;
    auto bytes = random_bytes(t.nbytes, 1);
    // keep f16 scales finite: zero the high bits of every byte (small values everywhere)
    for (auto& b : bytes) b &= 0x3b;
    t.data = bytes.data();
    const Weight w = make_weight(t);
    std::vector<float> x(static_cast<size_t>(cols), 0.5f), y(static_cast<size_t>(rows));
    ThreadPool pool(int(state.range(0)));
    for (auto _ : state) {
        matmul(w, x.data(), cols, 1, y.data(), rows, pool);
        benchmark::DoNotOptimize(y.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(t.nbytes));
}

}  // namespace

BENCHMARK_CAPTURE(BM_matvec, f32, DType::F32)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_matvec, f16, DType::F16)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_matvec, q8_0, DType::Q8_0)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_matvec, q4_0, DType::Q4_0)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_matvec, q4_k, DType::Q4_K)->Arg(1)->Arg(2);
BENCHMARK_CAPTURE(BM_matvec, q6_k, DType::Q6_K)->Arg(1)->Arg(2);
BENCHMARK_MAIN();
