// Parity of every SIMD matmul path with the scalar reference, per weight type, on random
// shapes including row lengths that are not multiples of the SIMD width or block size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp.h"
#include "core/quant_ref.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/matmul.h"

using namespace pangolin;

namespace {

struct RandomWeight {
    std::vector<uint8_t> bytes;
    std::vector<float> scales;
    TensorView view, scale_view;
};

// Random weights of `type`, [rows, cols]: quantized blocks get random quants and sane
// (finite, moderate) scales.
RandomWeight make_random(DType type, int64_t rows, int64_t cols, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    RandomWeight r;
    r.view.name = "w";
    r.view.type = type;
    r.view.shape = {rows, cols};
    r.view.nbytes = dtype_row_bytes(type, cols) * size_t(rows);
    r.bytes.resize(r.view.nbytes);
    for (auto& b : r.bytes) b = uint8_t(byte(rng));
    const int64_t nblocks = rows * cols / dtype_block_elems(type);
    auto half = [&](float v) { return f32_to_f16(v); };
    switch (type) {
        case DType::F32: {
            auto* f = reinterpret_cast<float*>(r.bytes.data());
            for (int64_t i = 0; i < rows * cols; ++i) f[i] = uni(rng);
            break;
        }
        case DType::F16: {
            auto* h = reinterpret_cast<uint16_t*>(r.bytes.data());
            for (int64_t i = 0; i < rows * cols; ++i) h[i] = half(uni(rng));
            break;
        }
        case DType::BF16: {
            auto* h = reinterpret_cast<uint16_t*>(r.bytes.data());
            for (int64_t i = 0; i < rows * cols; ++i) h[i] = f32_to_bf16(uni(rng));
            break;
        }
        case DType::Q8_0: {
            auto* b = reinterpret_cast<BlockQ8_0*>(r.bytes.data());
            for (int64_t i = 0; i < nblocks; ++i) b[i].d = half(0.01f * (1 + uni(rng)));
            break;
        }
        case DType::Q4_0: {
            auto* b = reinterpret_cast<BlockQ4_0*>(r.bytes.data());
            for (int64_t i = 0; i < nblocks; ++i) b[i].d = half(0.05f * uni(rng));
            break;
        }
        case DType::Q5_0: {
            auto* b = reinterpret_cast<BlockQ5_0*>(r.bytes.data());
            for (int64_t i = 0; i < nblocks; ++i) b[i].d = half(0.05f * uni(rng));
            break;
        }
        case DType::MXFP4: {
            auto* b = reinterpret_cast<BlockMXFP4*>(r.bytes.data());
            for (int64_t i = 0; i < nblocks; ++i) b[i].e = uint8_t(118 + byte(rng) % 12);
            break;
        }
        case DType::Q4_K: {
            auto* b = reinterpret_cast<BlockQ4_K*>(r.bytes.data());
            for (int64_t i = 0; i < nblocks; ++i)
                b[i].d = half(0.01f * uni(rng)), b[i].dmin = half(0.01f * uni(rng));
            break;
        }
        case DType::Q6_K: {
            auto* b = reinterpret_cast<BlockQ6_K*>(r.bytes.data());
            for (int64_t i = 0; i < nblocks; ++i) b[i].d = half(0.001f * uni(rng));
            break;
        }
        case DType::F8_E4M3: {
            for (auto& v : r.bytes)
                if ((v & 0x7f) == 0x7f) v &= 0xfe;  // no NaN codes
            const int64_t bs = 16, sr = (rows + bs - 1) / bs, sc = (cols + bs - 1) / bs;
            r.scales.resize(size_t(sr * sc));
            for (auto& s : r.scales)
                s = std::ldexp(1.0f, -(byte(rng) % 8));  // UE8M0: powers of two
            r.scale_view.name = "w_scale_inv";
            r.scale_view.type = DType::F32;
            r.scale_view.shape = {sr, sc};
            r.scale_view.nbytes = r.scales.size() * 4;
            r.scale_view.data = reinterpret_cast<const uint8_t*>(r.scales.data());
            break;
        }
        default:
            break;
    }
    r.view.data = r.bytes.data();
    return r;
}

Weight wrap(const RandomWeight& r, SimdLevel level) {
    if (r.view.type == DType::F8_E4M3) return make_weight_fp8(r.view, r.scale_view, 16, level);
    return make_weight(r.view, level);
}

// SIMD levels this CPU and build can run, above the scalar reference.
std::vector<SimdLevel> simd_levels() {
    std::vector<SimdLevel> out;
    for (SimdLevel l : {SimdLevel::Avx2, SimdLevel::Avx512})
        if (simd_level_supported(l)) out.push_back(l);
    return out;
}

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    std::vector<float> x(n);
    for (auto& v : x) v = scale * uni(rng);
    return x;
}

// Row lengths per type: for block types whole numbers of blocks, odd and even counts (the
// 512-bit kernels take blocks in pairs); for float types sizes around the vector widths.
std::vector<int64_t> col_choices(DType type) {
    const int64_t block = dtype_block_elems(type);
    if (block == 1)
        return {1, 5, 8, 15, 16, 17, 31, 37, 64, 100, 259, 1601};  // 1601: several L1 slices
    if (block == 32) return {32, 64, 96, 224, 416};
    return {256, 512, 768};
}

const DType k_gemm_types[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                              DType::Q5_0, DType::Q4_K, DType::Q6_K, DType::MXFP4};

class MatmulParity : public ::testing::TestWithParam<DType> {};

}  // namespace

// Activation quantization is bit-identical at every level: the integer products then are too.
TEST(QuantizeActivations, SimdMatchesScalarBitForBit) {
    for (SimdLevel level : simd_levels()) {
        for (DType type : {DType::Q8_0, DType::Q4_K}) {
            const GemmKernel simd = gemm_kernel(type, level);
            const GemmKernel ref = ref::gemm_kernel(type);
            ASSERT_NE(simd.quantize, ref.quantize);
            for (int64_t k : {int64_t(simd.act.block), int64_t(simd.act.block) * 3,
                              int64_t(simd.act.block) * 8}) {
                auto x = random_floats(size_t(k), uint32_t(k), 3.0f);
                for (int64_t i = 0; i < std::min<int64_t>(k, 32); ++i)
                    x[size_t(i)] = 0.0f;    // an all-zero block
                x[size_t(k - 1)] = 1e-30f;  // a tiny value
                const size_t bytes = size_t(simd.act.row_bytes(k));
                std::vector<uint8_t> a(bytes, 0), b(bytes, 0);
                simd.quantize(x.data(), k, a.data());
                ref.quantize(x.data(), k, b.data());
                EXPECT_EQ(0, std::memcmp(a.data(), b.data(), bytes))
                    << simd_level_name(level) << " block " << simd.act.block << " k=" << k;
            }
        }
    }
}

// Every SIMD matmul path against the scalar reference of the same math, on shapes that are
// not multiples of the tile sizes, the vector width or the number of blocks per step.
TEST_P(MatmulParity, SimdMatchesScalarReference) {
    const auto levels = simd_levels();
    if (levels.empty()) GTEST_SKIP() << "no SIMD path on this CPU/build";
    const DType type = GetParam();
    ThreadPool pool(2);
    uint32_t seed = 1;
    for (SimdLevel level : levels) {
        for (int64_t cols : col_choices(type)) {
            for (int64_t rows : {1, 3, 7, 33}) {
                for (int64_t n_tokens : {1, 2, 5, 9}) {
                    const RandomWeight rw = make_random(type, rows, cols, seed++);
                    const Weight simd = wrap(rw, level);
                    const Weight ref = wrap(rw, SimdLevel::Scalar);
                    ASSERT_NE(simd.dequant, ref.dequant)
                        << "no SIMD decoder for " << dtype_name(type);
                    const auto x = random_floats(size_t(n_tokens * cols), seed * 7);
                    std::vector<float> y_simd(size_t(n_tokens * rows)), y_ref(y_simd.size());
                    matmul(simd, x.data(), cols, n_tokens, y_simd.data(), rows, pool);
                    matmul(ref, x.data(), cols, n_tokens, y_ref.data(), rows, pool);
                    std::vector<float> row(static_cast<size_t>(cols)),
                        row_simd(static_cast<size_t>(cols));
                    for (int64_t r = 0; r < rows; ++r) {
                        dequant_row_ref(ref, r, row.data());
                        simd.dequant(simd, r, row_simd.data());
                        for (int64_t c = 0; c < cols; ++c)
                            ASSERT_NEAR(row_simd[size_t(c)], row[size_t(c)],
                                        1e-6f * std::fabs(row[size_t(c)]) + 1e-30f)
                                << dtype_name(type) << " dequant r=" << r << " c=" << c;
                        for (int64_t t = 0; t < n_tokens; ++t) {
                            // error bound relative to Σ|w·x| (the conditioning of each dot
                            // product); both sides use the same quantized activations, so only the
                            // float summation order differs
                            double mag = 0;
                            for (int64_t c = 0; c < cols; ++c)
                                mag += std::fabs(double(row[size_t(c)]) * x[size_t(t * cols + c)]);
                            ASSERT_NEAR(y_simd[size_t(t * rows + r)], y_ref[size_t(t * rows + r)],
                                        1e-5 * mag + 1e-30)
                                << dtype_name(type) << " " << simd_level_name(level)
                                << " rows=" << rows << " cols=" << cols << " tokens=" << n_tokens
                                << " r=" << r << " t=" << t;
                        }
                    }
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, MatmulParity,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                                           DType::Q4_0, DType::Q5_0, DType::Q4_K, DType::Q6_K,
                                           DType::MXFP4, DType::F8_E4M3),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

// Output row t depends only on activation row t and the weights: bit-identical whatever the
// thread count, the batch size and the row's position in the batch, for every weight type
// and every SIMD level (the server batches decode steps of unrelated requests).
TEST(Matmul, ResultIndependentOfThreadsAndBatch) {
    std::vector<SimdLevel> levels = simd_levels();
    levels.push_back(SimdLevel::Scalar);
    ThreadPool one(1), two(2), three(3);
    for (SimdLevel level : levels) {
        for (DType type : k_gemm_types) {
            // float rows longer than one L1 slice of the wide (F16/BF16 prefill) driver, too
            for (const int64_t cols : dtype_block_elems(type) == 1
                                          ? std::vector<int64_t>{203, 1601}
                                          : std::vector<int64_t>{dtype_block_elems(type) * 3}) {
                SCOPED_TRACE(std::string(dtype_name(type)) + " " + simd_level_name(level) +
                             " cols " + std::to_string(cols));
                const int64_t rows = 45, n = 13;
                const RandomWeight rw = make_random(type, rows, cols, 9);
                const Weight w = wrap(rw, level);
                const auto x = random_floats(size_t(n * cols), 3);
                std::vector<float> y1(size_t(n * rows)), y2(y1.size()), y3(y1.size());
                matmul(w, x.data(), cols, n, y1.data(), rows, one);
                matmul(w, x.data(), cols, n, y2.data(), rows, two);
                matmul(w, x.data(), cols, n, y3.data(), rows, three);
                EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4));
                EXPECT_EQ(0, std::memcmp(y1.data(), y3.data(), y1.size() * 4));
                // every token alone gives exactly its row of the batched result
                std::vector<float> y_single(static_cast<size_t>(rows));
                for (int64_t t = 0; t < n; ++t) {
                    matmul(w, x.data() + t * cols, cols, 1, y_single.data(), rows, two);
                    EXPECT_EQ(0,
                              std::memcmp(y_single.data(), y1.data() + t * rows, size_t(rows) * 4))
                        << "token " << t;
                }
                // reversed batch order: each row lands unchanged
                std::vector<float> xr(x.size()), yr(y1.size());
                for (int64_t t = 0; t < n; ++t)
                    std::memcpy(xr.data() + (n - 1 - t) * cols, x.data() + t * cols,
                                size_t(cols) * 4);
                matmul(w, xr.data(), cols, n, yr.data(), rows, three);
                for (int64_t t = 0; t < n; ++t)
                    EXPECT_EQ(0, std::memcmp(yr.data() + (n - 1 - t) * rows, y1.data() + t * rows,
                                             size_t(rows) * 4));
                // a sub-range of rows computes the same values
                std::vector<float> yp(y1.size(), 0.0f);
                matmul_rows(w, x.data(), cols, n, yp.data(), rows, 5, 37);
                for (int64_t t = 0; t < n; ++t)
                    EXPECT_EQ(
                        0, std::memcmp(yp.data() + t * rows + 5, y1.data() + t * rows + 5, 32 * 4));
            }
        }
    }
}

// matmul_fused gives exactly what separate products give, also for mixed types.
TEST(Matmul, FusedEqualsSeparate) {
    ThreadPool pool(2);
    const int64_t cols = 512, n = 7;
    const auto x = random_floats(size_t(n * cols), 11);
    for (SimdLevel level : simd_levels()) {
        const RandomWeight a = make_random(DType::Q5_0, 40, cols, 1),
                           b = make_random(DType::Q8_0, 24, cols, 2);
        const RandomWeight c = make_random(DType::Q4_K, 17, cols, 3),
                           d = make_random(DType::F16, 9, cols, 4);
        const Weight wa = wrap(a, level), wb = wrap(b, level), wc = wrap(c, level),
                     wd = wrap(d, level);
        std::vector<float> ya(size_t(n * 40)), yb(size_t(n * 24)), yc(size_t(n * 17)),
            yd(size_t(n * 9));
        const MatmulOut outs[] = {
            {&wa, ya.data(), 40}, {&wb, yb.data(), 24}, {&wc, yc.data(), 17}, {&wd, yd.data(), 9}};
        matmul_fused(outs, 4, x.data(), cols, n, pool);
        for (const auto& o : outs) {
            std::vector<float> y(size_t(n * o.ldy));
            matmul(*o.w, x.data(), cols, n, y.data(), o.ldy, pool);
            EXPECT_EQ(0, std::memcmp(y.data(), o.y, y.size() * 4)) << dtype_name(o.w->w.type);
        }
    }
}

TEST(Matmul, Fp8BlockScaleValidation) {
    RandomWeight rw = make_random(DType::F8_E4M3, 40, 40, 5);
    TensorView bad = rw.scale_view;
    bad.shape = {2, 2};  // 40x40 with 16-blocks needs [3, 3]
    EXPECT_THROW(make_weight_fp8(rw.view, bad, 16), std::exception);
    EXPECT_THROW(make_weight(rw.view), std::exception);  // FP8 without its scale
}

// matmul_jobs (independent products, each with its own input and token count) gives exactly
// what separate products give.
TEST(Matmul, JobsEqualSeparate) {
    ThreadPool pool(2);
    const int64_t cols = 512;
    for (SimdLevel level : simd_levels()) {
        const RandomWeight a = make_random(DType::Q4_K, 40, cols, 1),
                           b = make_random(DType::Q8_0, 24, cols, 2);
        const RandomWeight c = make_random(DType::Q6_K, 17, cols, 3);
        const Weight wa = wrap(a, level), wb = wrap(b, level), wc = wrap(c, level);
        const auto xa = random_floats(size_t(5 * cols), 11),
                   xb = random_floats(size_t(1 * cols), 12);
        std::vector<float> ya(size_t(5 * 40)), yb(size_t(1 * 24)), yc(size_t(5 * 17));
        const MatmulJob jobs[] = {{&wa, xa.data(), cols, 5, ya.data(), 40},
                                  {&wb, xb.data(), cols, 1, yb.data(), 24},
                                  {&wc, xa.data(), cols, 5, yc.data(), 17}};
        matmul_jobs(jobs, 3, pool);
        for (const auto& j : jobs) {
            std::vector<float> y(size_t(j.n_tokens * j.ldy));
            matmul(*j.w, j.x, cols, j.n_tokens, y.data(), j.ldy, pool);
            EXPECT_EQ(0, std::memcmp(y.data(), j.y, y.size() * 4)) << dtype_name(j.w->w.type);
        }
    }
}
