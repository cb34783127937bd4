// AVX2 + FMA + F16C row decoders and the f32 dot product. Compiled with -mavx2 -mfma -mf16c
// and only called when cpu_features() reports all three.
#include <immintrin.h>

#include <cstring>

#include "core/blocks.h"
#include "core/fp.h"
#include "kernels/cpu/matmul.h"

namespace pangolin::avx2 {

namespace {

inline __m256 cvt_i8x8(const int8_t* p) {
    int64_t v;
    std::memcpy(&v, p, 8);
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_cvtsi64_si128(v)));
}

inline __m256 cvt_i8x8(__m128i v8) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v8));
}

// Stores 16 int8 values (in a __m128i) times d at out[0..15].
inline void store_i8x16_scaled(__m128i q, __m256 d, float* out) {
    _mm256_storeu_ps(out, _mm256_mul_ps(cvt_i8x8(q), d));
    _mm256_storeu_ps(out + 8, _mm256_mul_ps(cvt_i8x8(_mm_unpackhi_epi64(q, q)), d));
}

void dequant_f32(const Weight& w, int64_t r, float* out) {
    std::memcpy(out, w.w.row(r), size_t(w.cols()) * 4);
}

void dequant_f16(const Weight& w, int64_t r, float* out) {
    const auto* s = reinterpret_cast<const uint16_t*>(w.w.row(r));
    const int64_t n = w.cols();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i,
                         _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
    for (; i < n; ++i) out[i] = f16_to_f32(s[i]);
}

void dequant_bf16(const Weight& w, int64_t r, float* out) {
    const auto* s = reinterpret_cast<const uint16_t*>(w.w.row(r));
    const int64_t n = w.cols();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i v =
            _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i)));
        _mm256_storeu_ps(out + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    for (; i < n; ++i) out[i] = bf16_to_f32(s[i]);
}

void dequant_q8_0(const Weight& w, int64_t r, float* out) {
    const auto* b = reinterpret_cast<const BlockQ8_0*>(w.w.row(r));
    const int64_t nb = w.cols() / k_q8_0_elems;
    for (int64_t i = 0; i < nb; ++i, out += 32) {
        const __m256 d = _mm256_set1_ps(f16_to_f32(b[i].d));
        for (int k = 0; k < 4; ++k)
            _mm256_storeu_ps(out + 8 * k, _mm256_mul_ps(cvt_i8x8(b[i].qs + 8 * k), d));
    }
}

void dequant_q4_0(const Weight& w, int64_t r, float* out) {
    const auto* b = reinterpret_cast<const BlockQ4_0*>(w.w.row(r));
    const int64_t nb = w.cols() / k_q4_0_elems;
    const __m128i mask = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    for (int64_t i = 0; i < nb; ++i, out += 32) {
        const __m256 d = _mm256_set1_ps(f16_to_f32(b[i].d));
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
        const __m128i lo = _mm_sub_epi8(_mm_and_si128(q, mask), eight);
        const __m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), mask), eight);
        store_i8x16_scaled(lo, d, out);
        store_i8x16_scaled(hi, d, out + 16);
    }
}

void dequant_q5_0(const Weight& w, int64_t r, float* out) {
    const auto* b = reinterpret_cast<const BlockQ5_0*>(w.w.row(r));
    const int64_t nb = w.cols() / k_q5_0_elems;
    const __m128i mask = _mm_set1_epi8(0x0F);
    for (int64_t i = 0; i < nb; ++i, out += 32) {
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d));
        uint32_t qh;
        std::memcpy(&qh, b[i].qh, 4);
        // byte j = 0xFF where bit j of qh is set
        __m256i bits = _mm256_shuffle_epi8(
            _mm256_set1_epi32(int(qh)), _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                                           0x0202020202020202, 0x0303030303030303));
        bits = _mm256_cmpeq_epi8(_mm256_or_si256(bits, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)),
                                 _mm256_set1_epi64x(-1));
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
        const __m256i nib =
            _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), mask), _mm_and_si128(q, mask));
        // q5 - 16: the nibble, with 0xF0 (−16) where the fifth bit is clear
        const __m256i v =
            _mm256_or_si256(nib, _mm256_andnot_si256(bits, _mm256_set1_epi8(char(0xF0))));
        store_i8x16_scaled(_mm256_castsi256_si128(v), d, out);
        store_i8x16_scaled(_mm256_extracti128_si256(v, 1), d, out + 16);
    }
}

void dequant_mxfp4(const Weight& w, int64_t r, float* out) {
    const auto* b = reinterpret_cast<const BlockMXFP4*>(w.w.row(r));
    const int64_t nb = w.cols() / k_mxfp4_elems;
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m128i table = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k_mxfp4_values));
    for (int64_t i = 0; i < nb; ++i, out += 32) {
        const __m256 d = _mm256_set1_ps(e8m0_to_f32_half(b[i].e));
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
        const __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(q, mask));
        const __m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), mask));
        store_i8x16_scaled(lo, d, out);
        store_i8x16_scaled(hi, d, out + 16);
    }
}

// 32 unsigned nibble values (as bytes in v) → out[0..31] = d * q - m.
inline void store_u8x32_affine(__m256i v, __m256 d, __m256 m, float* out) {
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    const __m128i parts[4] = {lo, _mm_unpackhi_epi64(lo, lo), hi, _mm_unpackhi_epi64(hi, hi)};
    for (int k = 0; k < 4; ++k) {
        const __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k]));
        _mm256_storeu_ps(out + 8 * k, _mm256_fmsub_ps(d, q, m));
    }
}

void dequant_q4_k(const Weight& w, int64_t r, float* out) {
    const auto* b = reinterpret_cast<const BlockQ4_K*>(w.w.row(r));
    const int64_t nb = w.cols() / k_qk_elems;
    const __m256i mask = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(b[i].d), dmin = f16_to_f32(b[i].dmin);
        for (int g = 0; g < 4; ++g, out += 64) {
            uint8_t sc1, m1, sc2, m2;
            q4_k_scale_min(2 * g, b[i].scales, &sc1, &m1);
            q4_k_scale_min(2 * g + 1, b[i].scales, &sc2, &m2);
            const __m256i q =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * g));
            store_u8x32_affine(_mm256_and_si256(q, mask), _mm256_set1_ps(d * sc1),
                               _mm256_set1_ps(dmin * m1), out);
            store_u8x32_affine(_mm256_and_si256(_mm256_srli_epi16(q, 4), mask),
                               _mm256_set1_ps(d * sc2), _mm256_set1_ps(dmin * m2), out + 32);
        }
    }
}

// 16 signed 6-bit values (already minus 32, as int8 in v) × d·sc → out.
inline void store_q6(__m128i v, float scale, float* out) {
    store_i8x16_scaled(v, _mm256_set1_ps(scale), out);
}

void dequant_q6_k(const Weight& w, int64_t r, float* out) {
    const auto* b = reinterpret_cast<const BlockQ6_K*>(w.w.row(r));
    const int64_t nb = w.cols() / k_qk_elems;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3), off = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(b[i].d);
        for (int half = 0; half < 2; ++half, out += 128) {
            const uint8_t* ql = b[i].ql + 64 * half;
            const uint8_t* qh = b[i].qh + 32 * half;
            const int8_t* sc = b[i].scales + 8 * half;
            const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
            const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
            const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
            const __m256i q[4] = {
                _mm256_sub_epi8(_mm256_or_si256(_mm256_and_si256(l0, m4),
                                                _mm256_slli_epi16(_mm256_and_si256(h, m2), 4)),
                                off),
                _mm256_sub_epi8(
                    _mm256_or_si256(
                        _mm256_and_si256(l1, m4),
                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4)),
                    off),
                _mm256_sub_epi8(
                    _mm256_or_si256(
                        _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4)),
                    off),
                _mm256_sub_epi8(
                    _mm256_or_si256(
                        _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4)),
                    off),
            };
            // q[k] holds values 32k + l for l = 0..31; l < 16 uses scale sc[2k], else sc[2k+1].
            for (int k = 0; k < 4; ++k) {
                store_q6(_mm256_castsi256_si128(q[k]), d * float(sc[2 * k]), out + 32 * k);
                store_q6(_mm256_extracti128_si256(q[k], 1), d * float(sc[2 * k + 1]),
                         out + 32 * k + 16);
            }
        }
    }
}

// 8 FP8 E4M3 bytes → 8 floats. The 7 magnitude bits placed at float bit 20 form a float32
// whose value times 2^120 is the E4M3 value (normal and subnormal alike); the sign is moved
// to bit 31. NaN codes are not special-cased (weights never hold them).
inline __m256 cvt_fp8x8(const uint8_t* p) {
    int64_t v;
    std::memcpy(&v, p, 8);
    const __m256i x = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(v));
    const __m256i mag = _mm256_slli_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0x7f)), 20);
    const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(x, _mm256_set1_epi32(0x80)), 24);
    const __m256 f = _mm256_mul_ps(_mm256_castsi256_ps(mag), _mm256_set1_ps(0x1p120f));
    return _mm256_or_ps(f, _mm256_castsi256_ps(sign));
}

void dequant_fp8_block_scaled(const Weight& w, int64_t r, float* out) {
    const uint8_t* s = w.w.row(r);
    const int64_t n = w.cols(), bs = w.scale_block;
    for (int64_t c0 = 0; c0 < n; c0 += bs) {
        const int64_t c1 = std::min(n, c0 + bs);
        const float scale = w.block_scale(r, c0);
        const __m256 vs = _mm256_set1_ps(scale);
        int64_t c = c0;
        for (; c + 8 <= c1; c += 8) _mm256_storeu_ps(out + c, _mm256_mul_ps(cvt_fp8x8(s + c), vs));
        for (; c < c1; ++c) out[c] = fp8_e4m3_to_f32(s[c]) * scale;
    }
}

}  // namespace

DequantRowFn dequant_row_fn(DType type, bool fp8_block_scaled) {
    switch (type) {
        case DType::F32:
            return &dequant_f32;
        case DType::F16:
            return &dequant_f16;
        case DType::BF16:
            return &dequant_bf16;
        case DType::Q8_0:
            return &dequant_q8_0;
        case DType::Q4_0:
            return &dequant_q4_0;
        case DType::Q5_0:
            return &dequant_q5_0;
        case DType::MXFP4:
            return &dequant_mxfp4;
        case DType::Q4_K:
            return &dequant_q4_k;
        case DType::Q6_K:
            return &dequant_q6_k;
        case DType::F8_E4M3:
            return fp8_block_scaled ? &dequant_fp8_block_scaled : nullptr;
        default:
            return nullptr;
    }
}

float dot_f32(const float* a, const float* b, int64_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8)
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    const __m256 acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float sum = _mm_cvtss_f32(s);
    for (; i < n; ++i) sum += a[i] * b[i];
    return sum;
}

}  // namespace pangolin::avx2
