#include <gtest/gtest.h>

#include <cmath>

#include "core/fp.h"

using namespace pangolin;

TEST(Fp16, KnownValues) {
    EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
    EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
    EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
    EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
    EXPECT_TRUE(std::isinf(f16_to_f32(0x7c00)));
    EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
    EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
    EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);               // ties to even rounds up to infinity
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie → even (0)
    EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp → 2
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
}

TEST(Fp16, RoundTripAllHalves) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = f16_to_f32(uint16_t(h));
        if (std::isnan(f)) continue;
        ASSERT_EQ(f32_to_f16(f), uint16_t(h)) << std::hex << h;
    }
}

TEST(Fp16, RoundsToNearestEven) {
    // 1 + 2^-11 lies exactly between 1 and 1 + 2^-10: ties to even (1.0)
    EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
    // 1 + 3·2^-11 lies between 1+2^-10 (odd) and 1+2^-9 (even): rounds up
    EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
    EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
}

TEST(Bf16, RoundTripAndRounding) {
    EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
    EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie → even
    EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
    for (uint32_t h = 0; h < 0x10000; h += 7) {
        const float f = bf16_to_f32(uint16_t(h));
        if (std::isnan(f)) continue;
        ASSERT_EQ(f32_to_bf16(f), uint16_t(h));
    }
}

TEST(Fp8E4M3, DecodesEveryCode) {
    EXPECT_EQ(fp8_e4m3_to_f32(0x38), 1.0f);    // exponent 7 = bias
    EXPECT_EQ(fp8_e4m3_to_f32(0x7e), 448.0f);  // largest finite
    EXPECT_EQ(fp8_e4m3_to_f32(0xfe), -448.0f);
    EXPECT_EQ(fp8_e4m3_to_f32(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
    EXPECT_EQ(fp8_e4m3_to_f32(0x08), std::ldexp(1.0f, -6));  // smallest normal
    EXPECT_TRUE(std::isnan(fp8_e4m3_to_f32(0x7f)));
    // every finite code round-trips through the encoder
    for (int c = 0; c < 256; ++c) {
        const float f = fp8_e4m3_to_f32(uint8_t(c));
        if (std::isnan(f)) continue;
        if (f == 0.0f) continue;  // ±0 both decode to zero
        ASSERT_EQ(f32_to_fp8_e4m3(f), uint8_t(c)) << c;
    }
    EXPECT_EQ(f32_to_fp8_e4m3(1000.0f), 0x7e);  // saturates
    EXPECT_EQ(f32_to_fp8_e4m3(1.0625f), 0x38);  // tie between 1 and 1.125 → even (1)
    EXPECT_EQ(f32_to_fp8_e4m3(1.1875f), 0x3a);  // tie between 1.125 and 1.25 → even (1.25)
}

TEST(E8M0, PowersOfTwo) {
    EXPECT_EQ(e8m0_to_f32(127), 1.0f);
    EXPECT_EQ(e8m0_to_f32(130), 8.0f);
    EXPECT_EQ(e8m0_to_f32(120), 1.0f / 128);
    EXPECT_EQ(e8m0_to_f32(1), std::ldexp(1.0f, -126));
    EXPECT_EQ(e8m0_to_f32(0), std::ldexp(1.0f, -127));
    EXPECT_TRUE(std::isnan(e8m0_to_f32(255)));
    EXPECT_EQ(e8m0_to_f32_half(128), 1.0f);
    EXPECT_EQ(e8m0_to_f32_half(0), std::ldexp(1.0f, -128));
    for (int e = 2; e < 255; ++e)
        EXPECT_EQ(e8m0_to_f32_half(uint8_t(e)), e8m0_to_f32(uint8_t(e)) / 2);
}
