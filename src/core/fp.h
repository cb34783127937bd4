// Scalar conversions between float32 and the narrow float formats stored in model files.
// These are the references every SIMD conversion is tested against.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace pangolin {

inline uint32_t f32_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float f32_from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    const uint32_t exp = (h >> 10) & 0x1f;
    const uint32_t mant = h & 0x3ff;
    if (exp == 0) {
        // zero or subnormal: mant * 2^-24
        const float v = std::ldexp(float(mant), -24);
        return sign ? -v : v;
    }
    if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));
    return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
}

// Round to nearest even, with overflow to infinity (as the F16C instruction does).
inline uint16_t f32_to_f16(float f) {
    const uint32_t x = f32_bits(f);
    const uint32_t sign = (x >> 16) & 0x8000;
    const uint32_t abs = x & 0x7fffffff;
    if (abs >= 0x7f800000u) return uint16_t(sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0));
    if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // rounds past 65504
    if (abs < 0x38800000u) {
        // result is subnormal (or zero): value / 2^-24 rounded to nearest even
        const float v = f32_from_bits(abs) * 16777216.0f;  // exact scaling by 2^24
        const float r = std::nearbyint(v);
        return uint16_t(sign | uint32_t(r));
    }
    uint32_t m = abs + 0xfff + ((abs >> 13) & 1);  // round to nearest even on bit 13
    m -= (112u << 23);
    return uint16_t(sign | (m >> 13));
}

// bfloat16: the top 16 bits of a float32.
inline float bf16_to_f32(uint16_t h) {
    return f32_from_bits(uint32_t(h) << 16);
}
inline uint16_t f32_to_bf16(float f) {
    const uint32_t x = f32_bits(f);
    if ((x & 0x7fffffff) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // quiet NaN
    return uint16_t((x + 0x7fff + ((x >> 16) & 1)) >> 16);                  // nearest even
}

// FP8 E4M3 ("float8_e4m3fn"): 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities,
// S.1111.111 is NaN; largest finite 448.
inline float fp8_e4m3_to_f32(uint8_t v) {
    const uint32_t sign = uint32_t(v & 0x80) << 24;
    const uint32_t exp = (v >> 3) & 0xf;
    const uint32_t mant = v & 0x7;
    if (exp == 0xf && mant == 0x7) return f32_from_bits(sign | 0x7fc00000u);
    if (exp == 0) {
        const float s = std::ldexp(float(mant), -9);  // subnormal: mant/8 * 2^-6
        return sign ? -s : s;
    }
    return f32_from_bits(sign | ((exp + 120) << 23) | (mant << 20));
}

// Nearest-even rounding to E4M3 with saturation to ±448 (what torch's float8_e4m3fn cast
// does for finite inputs in range; out-of-range values saturate instead of becoming NaN).
uint8_t f32_to_fp8_e4m3(float f);

// E8M0: an unsigned power-of-two exponent byte, value 2^(e-127); 0xff is NaN.
inline float e8m0_to_f32(uint8_t e) {
    if (e == 0xff) return NAN;
    if (e == 0) return f32_from_bits(0x00400000u);  // 2^-127 is subnormal in float32
    return f32_from_bits(uint32_t(e) << 23);
}

// Half of an E8M0 scale, 2^(e-128): MXFP4 stores its values doubled (kvalues 0..12).
inline float e8m0_to_f32_half(uint8_t e) {
    if (e < 2) return f32_from_bits(0x00200000u << e);
    return f32_from_bits(uint32_t(e - 1) << 23);
}

}  // namespace pangolin
