// Kernels for AVX-512 F/BW/VL + VNNI: the integer products of gemm_avx512_x4.inc (32-value
// blocks) and gemm_avx512_x4k.inc (Q4_K, Q6_K), the float tiles of gemm_x86.inc at 512
// bits, and attention. Compiled with its own target flags and only called when
// cpu_features() reports them.
//
// Weights of the 32-value block types are decoded to unsigned bytes u = w + o (o: 128 for
// Q8_0, 8 for Q4_0, 16 for Q5_0, 12 for MXFP4) so vpdpbusd multiplies them with the signed
// activations; sums start from −o·Σx, so they are exact.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cpu/attention_kernel.h"
#include "kernels/cpu/gemm.h"

#define PG_F512 1
#define PG_RM_32 4  // the 256-bit tiles of gemm_x86.inc (unused at this level for integer types)
#define PG_RN_32 4
#define PG_RM_K 2
#define PG_RN_K 4
#define PG_RM_F 6
#define PG_RN_F 2

// GCC 12 reports the _mm512_undefined_ps() inside its own conversion intrinsics as
// uninitialized (a false positive in avx512fintrin.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace pangolin::avx512 {

#include "kernels/cpu/gemm_x86.inc"
// the attention kernels use the vector types gemm_x86.inc defines
#include "kernels/cpu/attention_x86.inc"

namespace {

inline __m512i load2x32(const uint8_t* p0, const uint8_t* p1) {
    return _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p1)), 1);
}

// The 16 nibble bytes of two blocks as 64 values: [lo(p0), hi(p0), lo(p1), hi(p1)].
inline __m512i nibbles2(const uint8_t* p0, const uint8_t* p1) {
    const __m256i t = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p0))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1)), 1);
    const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(t), _mm256_srli_epi16(t, 4), 1);
    return _mm512_and_si512(_mm512_shuffle_i64x2(z, z, 0xD8), _mm512_set1_epi8(0x0F));
}

struct ZQ8_0 {
    static constexpr bool f16_scale = true;
    static constexpr int64_t bytes = 34;
    static constexpr int o = 128;
    static __m512i u2(const uint8_t* b0, const uint8_t* b1) {
        return _mm512_xor_si512(load2x32(b0 + 2, b1 + 2), _mm512_set1_epi8(char(0x80)));
    }
    static __m512i u1(const uint8_t* b0) {
        return _mm512_zextsi256_si512(
            _mm256_xor_si256(DecQ8_0::q(b0), _mm256_set1_epi8(char(0x80))));
    }
    static float d(const uint8_t* b) { return h2f(b); }
};

struct ZQ4_0 {
    static constexpr bool f16_scale = true;
    static constexpr int64_t bytes = 18;
    static constexpr int o = 8;
    static __m512i u2(const uint8_t* b0, const uint8_t* b1) { return nibbles2(b0 + 2, b1 + 2); }
    static __m512i u1(const uint8_t* b0) { return _mm512_zextsi256_si512(nibbles(b0 + 2)); }
    static float d(const uint8_t* b) { return h2f(b); }
};

struct ZQ5_0 {
    static constexpr bool f16_scale = true;
    static constexpr int64_t bytes = 22;
    static constexpr int o = 16;
    static uint64_t high_bits(const uint8_t* b) {
        uint32_t qh;
        std::memcpy(&qh, b + 2, 4);
        return qh;
    }
    static __m512i u2(const uint8_t* b0, const uint8_t* b1) {
        const __mmask64 m = _cvtu64_mask64(high_bits(b0) | (high_bits(b1) << 32));
        return _mm512_or_si512(nibbles2(b0 + 6, b1 + 6),
                               _mm512_maskz_mov_epi8(m, _mm512_set1_epi8(0x10)));
    }
    static __m512i u1(const uint8_t* b0) {
        const __mmask64 m = _cvtu64_mask64(high_bits(b0));
        return _mm512_or_si512(_mm512_zextsi256_si512(nibbles(b0 + 6)),
                               _mm512_maskz_mov_epi8(m, _mm512_set1_epi8(0x10)));
    }
    static float d(const uint8_t* b) { return h2f(b); }
};

struct ZMxfp4 {
    static constexpr bool f16_scale = false;
    static constexpr int64_t bytes = 17;
    static constexpr int o = 12;
    static __m512i table() {  // E2M1 values (doubled) + 12
        return _mm512_broadcast_i32x4(
            _mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
    }
    static __m512i u2(const uint8_t* b0, const uint8_t* b1) {
        return _mm512_shuffle_epi8(table(), nibbles2(b0 + 1, b1 + 1));
    }
    static __m512i u1(const uint8_t* b0) {
        return _mm512_zextsi256_si512(
            _mm256_shuffle_epi8(_mm512_castsi512_si256(table()), nibbles(b0 + 1)));
    }
    static float d(const uint8_t* b) { return DecMxfp4::d(b); }
};

}  // namespace

double peak_burst(bool int8, int64_t iters) {
    if (int8) {
        const __m512i u = _mm512_set1_epi8(1), x = _mm512_set1_epi8(2);
        return burst(
            iters, _mm512_set1_epi32(1), [&](__m512i a) { return _mm512_dpbusd_epi32(a, u, x); },
            128.0);
    }
    const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
    return burst(
        iters, _mm512_set1_ps(1.0f), [&](__m512 a) { return _mm512_fmadd_ps(a, m, c); }, 32.0);
}

#include "kernels/cpu/gemm_avx512_x4.inc"
#include "kernels/cpu/gemm_avx512_x4k.inc"

GemmKernel gemm_kernel(DType type) {
    GemmKernel g = make_kernel_256(type);
    switch (type) {
        case DType::Q8_0:
            g.gemm = &X4<ZQ8_0>::gemm;
            break;
        case DType::Q4_0:
            g.gemm = &X4<ZQ4_0>::gemm;
            break;
        case DType::Q5_0:
            g.gemm = &X4<ZQ5_0>::gemm;
            break;
        case DType::MXFP4:
            g.gemm = &X4<ZMxfp4>::gemm;
            break;
        case DType::Q4_K:
            g.gemm = &X4K<4>::gemm;
            break;
        case DType::Q6_K:
            g.gemm = &X4K<6>::gemm;
            break;
        default:
            break;
    }
    return g;
}

}  // namespace pangolin::avx512

#pragma GCC diagnostic pop
