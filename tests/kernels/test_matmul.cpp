// Parity of every SIMD matmul path with the scalar reference, per weight type, on random
// shapes including row lengths that are not multiples of the SIMD width or block size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp.h"
#include "core/quant_ref.h"
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
        case DType::MXFP4: {
            auto* b = reinterpret_cast<BlockMXFP4*>(r.bytes.data());
            for (int64_t i = 0; i < nblocks; ++i) b[i].e = uint8_t(118 + byte(rng) % 12);
            break;
        }
        case DType::Q4_K: {
            auto* b = reinterpret_cast<BlockQ4_K*>(r.bytes.data());
            for (int64_t i = 0; i < nblocks; ++i) b[i].d = half(0.01f * uni(rng)), b[i].dmin = half(0.01f * uni(rng));
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
            for (auto& s : r.scales) s = std::ldexp(1.0f, -(byte(rng) % 8));  // UE8M0: powers of two
            r.scale_view.name = "w_scale_inv";
            r.scale_view.type = DType::F32;
            r.scale_view.shape = {sr, sc};
            r.scale_view.nbytes = r.scales.size() * 4;
            r.scale_view.data = reinterpret_cast<const uint8_t*>(r.scales.data());
            break;
        }
        default: break;
    }
    r.view.data = r.bytes.data();
    return r;
}

Weight wrap(const RandomWeight& r, SimdLevel level) {
    if (r.view.type == DType::F8_E4M3) return make_weight_fp8(r.view, r.scale_view, 16, level);
    return make_weight(r.view, level);
}

class MatmulParity : public ::testing::TestWithParam<DType> {};

}  // namespace

TEST_P(MatmulParity, SimdMatchesScalarReference) {
    if (simd_level() == SimdLevel::Scalar) GTEST_SKIP() << "no SIMD path on this CPU/build";
    const DType type = GetParam();
    const int64_t block = dtype_block_elems(type);
    std::vector<int64_t> col_choices;
    if (block == 1) col_choices = {1, 5, 8, 31, 37, 64, 100, 259};
    else col_choices = {block, 3 * block, 7 * block};
    ThreadPool pool(2);
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    uint32_t seed = 1;
    for (int64_t cols : col_choices) {
        for (int64_t rows : {1, 7, 33}) {
            for (int64_t n_tokens : {1, 3}) {
                const RandomWeight rw = make_random(type, rows, cols, seed++);
                const Weight simd = wrap(rw, SimdLevel::Avx2);
                const Weight ref = wrap(rw, SimdLevel::Scalar);
                ASSERT_NE(simd.dequant, ref.dequant) << "no SIMD decoder for " << dtype_name(type);
                std::vector<float> x(size_t(n_tokens * cols));
                for (auto& v : x) v = uni(rng);
                std::vector<float> y_simd(size_t(n_tokens * rows)), y_ref(y_simd.size());
                matmul(simd, x.data(), cols, n_tokens, y_simd.data(), rows, pool);
                matmul(ref, x.data(), cols, n_tokens, y_ref.data(), rows, pool);
                // error bound relative to Σ|w·x| (the conditioning of each dot product)
                std::vector<float> row(static_cast<size_t>(cols)), row_simd(static_cast<size_t>(cols));
                for (int64_t r = 0; r < rows; ++r) {
                    dequant_row_ref(ref, r, row.data());
                    simd.dequant(simd, r, row_simd.data());
                    for (int64_t c = 0; c < cols; ++c)
                        ASSERT_NEAR(row_simd[size_t(c)], row[size_t(c)], 1e-6f * std::fabs(row[size_t(c)]) + 1e-30f)
                            << dtype_name(type) << " dequant r=" << r << " c=" << c;
                    for (int64_t t = 0; t < n_tokens; ++t) {
                        double mag = 0;
                        for (int64_t c = 0; c < cols; ++c) mag += std::fabs(double(row[size_t(c)]) * x[size_t(t * cols + c)]);
                        ASSERT_NEAR(y_simd[size_t(t * rows + r)], y_ref[size_t(t * rows + r)], 2e-6 * mag + 1e-30)
                            << dtype_name(type) << " rows=" << rows << " cols=" << cols << " t=" << t;
                    }
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, MatmulParity,
                         ::testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0,
                                           DType::Q4_K, DType::Q6_K, DType::MXFP4, DType::F8_E4M3),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

TEST(Matmul, ResultIndependentOfThreadsAndBatch) {
    const RandomWeight rw = make_random(DType::Q4_K, 45, 512, 9);
    const Weight w = make_weight(rw.view);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    const int64_t n = 5;
    std::vector<float> x(size_t(n * 512));
    for (auto& v : x) v = uni(rng);
    std::vector<float> y1(size_t(n * 45)), y2(y1.size()), y_single(45);
    ThreadPool one(1), three(3);
    matmul(w, x.data(), 512, n, y1.data(), 45, one);
    matmul(w, x.data(), 512, n, y2.data(), 45, three);
    EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * 4));
    // token 3 alone gives exactly its row of the batched result
    matmul(w, x.data() + 3 * 512, 512, 1, y_single.data(), 45, three);
    EXPECT_EQ(0, std::memcmp(y_single.data(), y1.data() + 3 * 45, 45 * 4));
}

TEST(Matmul, Fp8BlockScaleValidation) {
    RandomWeight rw = make_random(DType::F8_E4M3, 40, 40, 5);
    TensorView bad = rw.scale_view;
    bad.shape = {2, 2};  // 40x40 with 16-blocks needs [3, 3]
    EXPECT_THROW(make_weight_fp8(rw.view, bad, 16), std::exception);
    EXPECT_THROW(make_weight(rw.view), std::exception);  // FP8 without its scale
}
