// Kernel micro-benchmarks (Google Benchmark), each reported against a ceiling measured on
// this machine at start-up:
//   gemv/<type>/<threads>/<cols>  one token × a 256 MB weight matrix (decode), rows of 1536
//                           and 8960 values (R1-Distill-Qwen-1.5B's hidden and FFN widths):
//                           GB/s of weights read and bw_pct of the measured read bandwidth
//   gemm/<type>/<threads>   512 tokens × an [8960, 1536] matrix (R1-Distill-Qwen-1.5B's ffn_up):
//                           GOP/s (2 per multiply-add) and peak_pct of the measured FMA
//                           (float types) or int8 dot-product (integer types) peak
//   quantize_act/<block>    float32 → 8-bit activation rows, GB/s of input
// Run: build/bench/bench_kernels [--benchmark_filter=gemv]
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <random>
#include <vector>

#include "core/blocks.h"
#include "core/fp.h"
#include "core/thread_pool.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/membw.h"

using namespace pangolin;

namespace {

struct Ceilings {
    double membw[3] = {};                // bytes/s with 1 and 2 threads
    double f32_peak = 0, int8_peak = 0;  // operations/s per thread
};

const Ceilings& ceilings() {
    static const Ceilings c = [] {
        Ceilings r;
        for (int t = 1; t <= 2; ++t) {
            ThreadPool pool(t);
            r.membw[t] = measure_read_bandwidth(pool, size_t(512) << 20, 3);
        }
        for (bool int8 : {false, true}) {
            double best = 0;
            for (int rep = 0; rep < 3; ++rep) {
                const auto t0 = std::chrono::steady_clock::now();
                const double ops = peak_burst(simd_level(), int8, 20'000'000);
                const double s =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                best = std::max(best, ops / s);
            }
            (int8 ? r.int8_peak : r.f32_peak) = best;
        }
        return r;
    }();
    return c;
}

// Weights of `type` with random quants and sane scales (no NaN or infinity anywhere).
std::vector<uint8_t> random_weights(DType type, int64_t rows, int64_t cols) {
    std::mt19937 rng(1);
    const size_t row_bytes = dtype_row_bytes(type, cols);
    std::vector<uint8_t> b(row_bytes * size_t(rows));
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i + 8 <= b.size(); i += 8) {  // xorshift: fast enough for 256 MB
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        std::memcpy(b.data() + i, &state, 8);
    }
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    const int64_t blocks = rows * cols / dtype_block_elems(type);
    auto set_half = [&](uint8_t* p, float v) {
        const uint16_t h = f32_to_f16(v);
        std::memcpy(p, &h, 2);
    };
    switch (type) {
        case DType::F32:
            for (int64_t i = 0; i < rows * cols; ++i)
                reinterpret_cast<float*>(b.data())[i] = uni(rng);
            break;
        case DType::F16:
        case DType::BF16:
            for (int64_t i = 0; i < rows * cols; ++i)
                reinterpret_cast<uint16_t*>(b.data())[i] =
                    type == DType::F16 ? f32_to_f16(uni(rng)) : f32_to_bf16(uni(rng));
            break;
        case DType::Q8_0:
        case DType::Q4_0:
        case DType::Q5_0:
            for (int64_t i = 0; i < blocks; ++i)
                set_half(b.data() + size_t(i) * size_t(dtype_block_bytes(type)), 0.01f);
            break;
        case DType::Q4_K:
            for (int64_t i = 0; i < blocks; ++i) {
                set_half(b.data() + size_t(i) * 144, 0.01f);
                set_half(b.data() + size_t(i) * 144 + 2, 0.01f);
            }
            break;
        case DType::Q6_K:
            for (int64_t i = 0; i < blocks; ++i) set_half(b.data() + size_t(i) * 210 + 208, 0.01f);
            break;
        case DType::MXFP4:
            for (int64_t i = 0; i < blocks; ++i) b[size_t(i) * 17] = 120;
            break;
        default:
            break;
    }
    return b;
}

Weight wrap(DType type, int64_t rows, int64_t cols, const std::vector<uint8_t>& bytes) {
    TensorView t;
    t.name = "w";
    t.type = type;
    t.shape = {rows, cols};
    t.nbytes = bytes.size();
    t.data = bytes.data();
    return make_weight(t);
}

void BM_gemv(benchmark::State& state, DType type) {
    const int threads = int(state.range(0));
    const int64_t cols = state.range(1);
    const int64_t rows = (int64_t(256) << 20) / int64_t(dtype_row_bytes(type, cols));  // 256 MB
    const auto bytes = random_weights(type, rows, cols);
    const Weight w = wrap(type, rows, cols, bytes);
    std::vector<float> x(static_cast<size_t>(cols), 0.5f), y(static_cast<size_t>(rows));
    ThreadPool pool(threads);
    for (auto _ : state) {
        matmul(w, x.data(), cols, 1, y.data(), rows, pool);
        benchmark::DoNotOptimize(y.data());
    }
    const double per_iter = double(bytes.size());
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(per_iter));
    state.counters["bw_pct"] = benchmark::Counter(
        100.0 * per_iter / ceilings().membw[threads] * double(state.iterations()),
        benchmark::Counter::kIsRate);
}

void BM_gemm(benchmark::State& state, DType type) {
    const int threads = int(state.range(0));
    const int64_t rows = 8960, cols = 1536, n = 512;
    const auto bytes = random_weights(type, rows, cols);
    const Weight w = wrap(type, rows, cols, bytes);
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n * cols)), y(static_cast<size_t>(n * rows));
    for (auto& v : x) v = uni(rng);
    ThreadPool pool(threads);
    for (auto _ : state) {
        matmul(w, x.data(), cols, n, y.data(), rows, pool);
        benchmark::DoNotOptimize(y.data());
    }
    const double ops = 2.0 * double(rows) * double(cols) * double(n);
    const bool int8 = w.kernel.quantize != nullptr;
    const double peak = (int8 ? ceilings().int8_peak : ceilings().f32_peak) * threads;
    state.counters["GOPS"] =
        benchmark::Counter(ops / 1e9 * double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["peak_pct"] = benchmark::Counter(100.0 * ops / peak * double(state.iterations()),
                                                    benchmark::Counter::kIsRate);
}

void BM_quantize_act(benchmark::State& state) {
    const int block = int(state.range(0));
    const GemmKernel k = gemm_kernel(block == 32 ? DType::Q8_0 : DType::Q4_K, simd_level());
    const int64_t cols = 4864;
    std::vector<float> x(static_cast<size_t>(cols), 0.25f);
    std::vector<uint8_t> out(static_cast<size_t>(k.act.row_bytes(cols)));
    for (auto _ : state) {
        k.quantize(x.data(), cols, out.data());
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * cols * 4);
}

}  // namespace

#define PG_TYPES(X)                                                                     \
    X(f32, F32)                                                                         \
    X(f16, F16)                                                                         \
    X(bf16, BF16) X(q8_0, Q8_0) X(q4_0, Q4_0) X(q5_0, Q5_0) X(q4_k, Q4_K) X(q6_k, Q6_K) \
        X(mxfp4, MXFP4)
#define PG_GEMV(name, type)                       \
    BENCHMARK_CAPTURE(BM_gemv, name, DType::type) \
        ->ArgsProduct({{1, 2}, {1536, 8960}})     \
        ->UseRealTime();
#define PG_GEMM(name, type) \
    BENCHMARK_CAPTURE(BM_gemm, name, DType::type)->Arg(1)->Arg(2)->UseRealTime();
PG_TYPES(PG_GEMV)
PG_TYPES(PG_GEMM)
BENCHMARK(BM_quantize_act)->Arg(32)->Arg(256);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    const Ceilings& c = ceilings();
    std::printf(
        "ceilings (%s): read bandwidth %.1f GB/s (1 thread), %.1f GB/s (2 threads); per thread "
        "%.0f GFLOP/s "
        "f32 FMA, %.0f GOP/s int8\n",
        simd_level_name(simd_level()), c.membw[1] / 1e9, c.membw[2] / 1e9, c.f32_peak / 1e9,
        c.int8_peak / 1e9);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
