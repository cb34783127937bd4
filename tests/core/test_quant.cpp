#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp.h"
#include "core/quant_ref.h"

using namespace pangolin;

TEST(QuantRef, Q8_0HandMadeBlock) {
    BlockQ8_0 b{};
    b.d = f32_to_f16(0.5f);
    for (int j = 0; j < 32; ++j) b.qs[j] = int8_t(j - 16);
    float out[32];
    dequantize_row_ref(DType::Q8_0, &b, out, 32);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 0.5f * float(j - 16));
}

TEST(QuantRef, Q4_0NibbleOrder) {
    BlockQ4_0 b{};
    b.d = f32_to_f16(2.0f);
    for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t((j & 0xF) | ((15 - j) << 4));
    float out[32];
    dequantize_row_ref(DType::Q4_0, &b, out, 32);
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(out[j], 2.0f * float(j - 8));            // low nibble → element j
        EXPECT_EQ(out[j + 16], 2.0f * float(15 - j - 8));  // high nibble → element j+16
    }
}

TEST(QuantRef, MXFP4Values) {
    BlockMXFP4 b{};
    b.e = 128;  // half-scale 2^0 = 1: value = kvalue (the doubled E2M1 value)
    for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
    float out[32];
    dequantize_row_ref(DType::MXFP4, &b, out, 32);
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(out[j], float(k_mxfp4_values[j]));
        EXPECT_EQ(out[j + 16], float(k_mxfp4_values[15 - j]));
    }
    EXPECT_EQ(out[7], 12.0f);  // E2M1 6.0, doubled
    EXPECT_EQ(out[15], -12.0f);
}

TEST(QuantRef, Q4_KScalesAndMins) {
    BlockQ4_K b{};
    b.d = f32_to_f16(1.0f);
    b.dmin = f32_to_f16(0.5f);
    // sub-block j: scale j+1, min 2j (6-bit fields packed as in ggml)
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; ++j)
        sc[j] = uint8_t(j + 1 + (j >= 4 ? 40 : 0)), mn[j] = uint8_t(2 * j + (j >= 4 ? 33 : 0));
    for (int j = 0; j < 4; ++j) {
        b.scales[j] = uint8_t(sc[j] | ((sc[j + 4] >> 4) << 6));
        b.scales[j + 4] = uint8_t(mn[j] | ((mn[j + 4] >> 4) << 6));
        b.scales[j + 8] = uint8_t((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
    }
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        q4_k_scale_min(j, b.scales, &s, &m);
        EXPECT_EQ(s, sc[j]);
        EXPECT_EQ(m, mn[j]);
    }
    for (int i = 0; i < 128; ++i) b.qs[i] = uint8_t((i % 16) | ((15 - i % 16) << 4));
    std::vector<float> out(256);
    dequantize_row_ref(DType::Q4_K, &b, out.data(), 256);
    for (int g = 0; g < 4; ++g)
        for (int l = 0; l < 32; ++l) {
            EXPECT_EQ(out[size_t(64 * g + l)],
                      float(sc[2 * g]) * float(l % 16) - 0.5f * float(mn[2 * g]));
            EXPECT_EQ(out[size_t(64 * g + 32 + l)],
                      float(sc[2 * g + 1]) * float(15 - l % 16) - 0.5f * float(mn[2 * g + 1]));
        }
}

TEST(QuantRef, Q6_KLayout) {
    BlockQ6_K b{};
    b.d = f32_to_f16(0.25f);
    for (int i = 0; i < 16; ++i) b.scales[i] = int8_t(i - 8);
    // q value for element e is e % 64 (0..63), encoded as in ggml
    std::vector<int> want(256);
    for (int e = 0; e < 256; ++e) want[size_t(e)] = e % 64;
    for (int half = 0; half < 2; ++half) {
        for (int l = 0; l < 32; ++l) {
            const int base = 128 * half;
            const int q1 = want[size_t(base + l)], q2 = want[size_t(base + l + 32)];
            const int q3 = want[size_t(base + l + 64)], q4 = want[size_t(base + l + 96)];
            b.ql[64 * half + l] = uint8_t((q1 & 0xF) | ((q3 & 0xF) << 4));
            b.ql[64 * half + l + 32] = uint8_t((q2 & 0xF) | ((q4 & 0xF) << 4));
            b.qh[32 * half + l] =
                uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
        }
    }
    std::vector<float> out(256);
    dequantize_row_ref(DType::Q6_K, &b, out.data(), 256);
    for (int e = 0; e < 256; ++e)
        EXPECT_EQ(out[size_t(e)], 0.25f * float(e / 16 - 8) * float(want[size_t(e)] - 32)) << e;
}

TEST(QuantRef, QuantizersRoundTrip) {
    std::mt19937 rng(7);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(256), y(256);
    for (auto& v : x) v = dist(rng);
    double norm = 0;
    for (float v : x) norm += double(v) * v;
    auto rel_err = [&] {
        double e = 0;
        for (size_t i = 0; i < x.size(); ++i) e += double(x[i] - y[i]) * (x[i] - y[i]);
        return std::sqrt(e / norm);
    };
    std::vector<BlockQ8_0> q8(8);
    quantize_row_q8_0_ref(x.data(), q8.data(), 256);
    dequantize_row_ref(DType::Q8_0, q8.data(), y.data(), 256);
    EXPECT_LT(rel_err(), 0.01);
    std::vector<BlockQ4_0> q4(8);
    quantize_row_q4_0_ref(x.data(), q4.data(), 256);
    dequantize_row_ref(DType::Q4_0, q4.data(), y.data(), 256);
    EXPECT_LT(rel_err(), 0.15);
    std::vector<BlockMXFP4> mx(8);
    quantize_row_mxfp4_ref(x.data(), mx.data(), 256);
    dequantize_row_ref(DType::MXFP4, mx.data(), y.data(), 256);
    EXPECT_LT(rel_err(), 0.2);
    BlockQ8_K qk;
    quantize_row_q8_k_ref(x.data(), &qk, 256);
    dequantize_row_ref(DType::Q8_K, &qk, y.data(), 256);
    EXPECT_LT(rel_err(), 0.01);
    for (int i = 0; i < 16; ++i) {
        int s = 0;
        for (int k = 0; k < 16; ++k) s += qk.qs[16 * i + k];
        EXPECT_EQ(qk.bsums[i], s);
    }
}

TEST(QuantRef, RejectsPartialBlocks) {
    float out[40];
    BlockQ8_0 b[2]{};
    EXPECT_THROW(dequantize_row_ref(DType::Q8_0, b, out, 40), std::exception);
}

TEST(QuantRef, Q5_0HighBits) {
    BlockQ5_0 b{};
    b.d = f32_to_f16(0.5f);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const int lo = j, hi = 31 - j;  // codes of value j and j + 16
        b.qs[j] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
        qh |= uint32_t(lo >> 4) << j;
        qh |= uint32_t(hi >> 4) << (j + 16);
    }
    std::memcpy(b.qh, &qh, 4);
    float out[32];
    dequantize_row_ref(DType::Q5_0, &b, out, 32);
    for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(out[j], 0.5f * float(j - 16));
        EXPECT_EQ(out[j + 16], 0.5f * float(31 - j - 16));
    }
}

TEST(QuantRef, Q5_KHighBits) {
    BlockQ5_K b{};
    b.d = f32_to_f16(1.0f);
    b.dmin = f32_to_f16(0.0f);
    for (int j = 0; j < 4; ++j) b.scales[j] = 1;   // sub-blocks 0..3: scale 1
    for (int j = 8; j < 12; ++j) b.scales[j] = 1;  // sub-blocks 4..7: scale 1 (low nibble)
    // value e gets code e % 32
    for (int g = 0; g < 4; ++g)
        for (int l = 0; l < 32; ++l) {
            const int lo = (64 * g + l) % 32, hi = (64 * g + 32 + l) % 32;
            b.qs[32 * g + l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
            if (lo > 15) b.qh[l] |= uint8_t(1u << (2 * g));
            if (hi > 15) b.qh[l] |= uint8_t(2u << (2 * g));
        }
    std::vector<float> out(256);
    dequantize_row_ref(DType::Q5_K, &b, out.data(), 256);
    for (int e = 0; e < 256; ++e) EXPECT_EQ(out[size_t(e)], float(e % 32)) << e;
}

TEST(QuantRef, KQuantsAndQ5RoundTrip) {
    std::mt19937 rng(11);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    const int64_t n = 1024;
    std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (auto& v : x) v = dist(rng);
    double norm = 0;
    for (float v : x) norm += double(v) * v;
    // relative L2 error of a round trip; bounds from the bits per value
    for (auto [type, bound] : {std::pair{DType::Q5_0, 0.06},
                               {DType::Q4_K, 0.1},
                               {DType::Q5_K, 0.05},
                               {DType::Q6_K, 0.025},
                               {DType::F16, 1e-3},
                               {DType::BF16, 5e-3}}) {
        std::vector<uint8_t> q(dtype_row_bytes(type, n));
        quantize_row_ref(type, x.data(), q.data(), n);
        dequantize_row_ref(type, q.data(), y.data(), n);
        double e = 0;
        for (size_t i = 0; i < x.size(); ++i) e += double(x[i] - y[i]) * (x[i] - y[i]);
        EXPECT_LT(std::sqrt(e / norm), bound) << dtype_name(type);
    }
    // an all-zero row stays zero
    std::vector<float> zero(256, 0.0f), back(256, 1.0f);
    for (DType type : {DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q5_0}) {
        std::vector<uint8_t> q(dtype_row_bytes(type, 256));
        quantize_row_ref(type, zero.data(), q.data(), 256);
        dequantize_row_ref(type, q.data(), back.data(), 256);
        for (float v : back) EXPECT_EQ(v, 0.0f) << dtype_name(type);
    }
}

TEST(QuantRef, Fp8BlockScales) {
    EXPECT_EQ(fp8_block_exponent(448.0f), 127);         // fits with scale 1
    EXPECT_EQ(fp8_block_exponent(448.5f), 128);         // needs scale 2
    EXPECT_EQ(fp8_block_exponent(448.0f / 1024), 117);  // exactly 2^-10 · 448
    EXPECT_EQ(fp8_block_exponent(0.0f), 127);
    // a 3 × 5 band with block 4: two column blocks; every code decodes within E4M3 precision
    const float x[15] = {1, -2, 3, 1000, 0.5f, 0.25f, 100, -300, 1e-3f, 7, 0, 2, -1, 5, 6};
    uint8_t q[15], e[2];
    quantize_fp8_band_ref(x, 3, 5, 4, q, e);
    EXPECT_EQ(e[0], fp8_block_exponent(1000.0f));  // columns 0..3
    EXPECT_EQ(e[1], fp8_block_exponent(7.0f));     // column 4
    for (int i = 0; i < 15; ++i) {
        const float v = fp8_e4m3_to_f32(q[i]) * e8m0_to_f32(e[(i % 5) / 4]);
        EXPECT_NEAR(v, x[i], std::fabs(x[i]) / 16 + 1e-2f) << i;
    }
}
