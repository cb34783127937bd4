// Tiled kernels for AVX-512 F/BW/VL + VNNI: 512-bit integer tiles (below) and the float
// tiles of gemm_x86.inc at 512 bits, with the larger tiles 32 vector registers allow.
// Compiled with its own target flags and only called when cpu_features() reports them.
//
// Integer tiles take two 32-value blocks (or two Q4_K/Q6_K sub-blocks) per 512-bit vector.
// Weights are decoded to unsigned bytes u = w + o (o: 128 for Q8_0, 8 for Q4_0, 16 for
// Q5_0, 12 for MXFP4) so vpdpbusd multiplies them with the signed activations; each lane
// starts from −o·Σx over its four values, so every int32 lane is exactly Σ w·x of its four
// products. Per pair of blocks an output then takes one convert and one multiply-add.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/attention_kernel.h"
#include "kernels/cpu/gemm.h"

#define PG_F512 1
#define PG_GEMV_STEP_BYTES 16384
#define PG_RM_32 4
#define PG_RN_32 4
#define PG_RM_K 2
#define PG_RN_K 4
#define PG_RM_F 4
#define PG_RN_F 3

// GCC 12 reports the _mm512_undefined_ps() inside its own conversion intrinsics as
// uninitialized (a false positive in avx512fintrin.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace pangolin::avx512 {

#include "kernels/cpu/gemm_x86.inc"
#include "kernels/cpu/attention_x86.inc"

namespace {

inline __m512 bcast2(float a, float b) {  // [a ×8, b ×8]
    const __m256d lo = _mm256_castps_pd(_mm256_set1_ps(a)), hi = _mm256_castps_pd(_mm256_set1_ps(b));
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1));
}

inline float hsum16(__m512 v) {
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return hsum8(_mm256_add_ps(_mm512_castps512_ps256(v), hi));
}

inline __m512i load2x32(const uint8_t* p0, const uint8_t* p1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p0))),
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
    static __m512i u1(const uint8_t* b0) { return _mm512_zextsi256_si512(_mm256_xor_si256(DecQ8_0::q(b0), _mm256_set1_epi8(char(0x80)))); }
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
        return _mm512_or_si512(nibbles2(b0 + 6, b1 + 6), _mm512_maskz_mov_epi8(m, _mm512_set1_epi8(0x10)));
    }
    static __m512i u1(const uint8_t* b0) {
        const __mmask64 m = _cvtu64_mask64(high_bits(b0));
        return _mm512_or_si512(_mm512_zextsi256_si512(nibbles(b0 + 6)), _mm512_maskz_mov_epi8(m, _mm512_set1_epi8(0x10)));
    }
    static float d(const uint8_t* b) { return h2f(b); }
};

struct ZMxfp4 {
    static constexpr bool f16_scale = false;
    static constexpr int64_t bytes = 17;
    static constexpr int o = 12;
    static __m512i table() {  // E2M1 values (doubled) + 12
        return _mm512_broadcast_i32x4(_mm_setr_epi8(12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0));
    }
    static __m512i u2(const uint8_t* b0, const uint8_t* b1) { return _mm512_shuffle_epi8(table(), nibbles2(b0 + 1, b1 + 1)); }
    static __m512i u1(const uint8_t* b0) {
        return _mm512_zextsi256_si512(_mm256_shuffle_epi8(_mm512_castsi512_si256(table()), nibbles(b0 + 1)));
    }
    static float d(const uint8_t* b) { return DecMxfp4::d(b); }
};

// [d0 ×8, d1 ×8] from two f16 scales (exact: f16 → f32 conversion).
inline __m512 dw2_f16(const uint8_t* p0, const uint8_t* p1) {
    uint16_t h0, h1;
    std::memcpy(&h0, p0, 2);
    std::memcpy(&h1, p1, 2);
    return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(short(h0))),
                                                   _mm_set1_epi16(short(h1)), 1));
}

template <class D>
struct Tile32Z {
    static __m512 dw2(const uint8_t* blk, bool tail) {
        if constexpr (D::f16_scale) {
            const __m512 v = dw2_f16(blk, tail ? blk : blk + D::bytes);
            return tail ? _mm512_maskz_mov_ps(__mmask16(0x00ff), v) : v;
        } else {
            return bcast2(D::d(blk), tail ? 0.0f : D::d(blk + D::bytes));
        }
    }
    static __m512i load_x(const uint8_t* xp, bool tail) {
        return tail ? _mm512_maskz_loadu_epi8(__mmask64(0xffffffffull), xp) : _mm512_loadu_si512(reinterpret_cast<const void*>(xp));
    }
    // −o·Σx over each lane's four activations: cancels the +o of the weights
    static __m512i x_corr(__m512i xq) {
        return _mm512_sub_epi32(_mm512_setzero_si512(),
                                _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(char(D::o)), xq));
    }
    static __m512 dx2(const float* ad, int64_t b, bool tail) { return bcast2(ad[b], tail ? 0.0f : ad[b + 1]); }
    // The one update every output gets per pair of blocks, in GEMM tiles and GEMV alike.
    static __m512 update(__m512 acc, __m512i u, __m512 dw, __m512i xq, __m512i xc, __m512 dx) {
        return _mm512_fmadd_ps(_mm512_mul_ps(dw, dx), _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(xc, u, xq)), acc);
    }

    // One step over blocks b and b + 1 (Tail: block b only, the upper half zero).
    template <int RM, int RN, bool Tail>
    static void step(const uint8_t* const* wr, const uint8_t* const* xr, const float* const* ad, int64_t b,
                     __m512 (&acc)[RM][RN]) {
        __m512i u[RM];
        __m512 dw[RM];
        PG_UNROLL
        for (int i = 0; i < RM; ++i) {
            const uint8_t* blk = wr[i] + b * D::bytes;
            u[i] = Tail ? D::u1(blk) : D::u2(blk, blk + D::bytes);
            dw[i] = dw2(blk, Tail);
        }
        PG_UNROLL
        for (int j = 0; j < RN; ++j) {
            const __m512i xq = load_x(xr[j] + b * 32, Tail);
            const __m512i xc = x_corr(xq);
            const __m512 dx = dx2(ad[j], b, Tail);
            PG_UNROLL
            for (int i = 0; i < RM; ++i) acc[i][j] = update(acc[i][j], u[i], dw[i], xq, xc, dx);
        }
    }
    template <int RM, int RN>
    static void tile(const uint8_t* const* wr, const uint8_t* const* xr, int64_t k, float* y, int64_t ldy,
                     int64_t rm, int64_t rn) {
        const int64_t nb = k / 32;
        const float* ad[RN];
        PG_UNROLL
        for (int j = 0; j < RN; ++j) ad[j] = reinterpret_cast<const float*>(xr[j] + act_d_offset(k));
        __m512 acc[RM][RN];
        PG_UNROLL
        for (int i = 0; i < RM; ++i)
            PG_UNROLL
            for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
        int64_t b = 0;
        for (; b + 2 <= nb; b += 2) step<RM, RN, false>(wr, xr, ad, b, acc);
        if (b < nb) step<RM, RN, true>(wr, xr, ad, b, acc);
        PG_UNROLL
        for (int i = 0; i < RM; ++i)
            PG_UNROLL
            for (int j = 0; j < RN; ++j)
                if (i < rm && j < rn) y[j * ldy + i] = hsum16(acc[i][j]);
    }

    // A single token: the activation side of every step (x, its correction, its scales)
    // is computed once, then each row streams through with the same update as in tile().
    static void gemv(const uint8_t* w, int64_t w_stride, int64_t k, int64_t r0, int64_t r1, const uint8_t* act,
                     float* y) {
        const int64_t nb = k / 32, steps = (nb + 1) / 2;
        const float* ad = reinterpret_cast<const float*>(act + act_d_offset(k));
        struct Step {
            __m512i xq, xc;
            __m512 dx;
        };
        struct Buffer {
            Step* data = nullptr;
            int64_t cap = 0;
            ~Buffer() { std::free(data); }
        };
        thread_local Buffer tb;
        if (steps > tb.cap) {
            std::free(tb.data);
            tb.cap = steps;
            tb.data = static_cast<Step*>(std::aligned_alloc(64, size_t(steps) * sizeof(Step)));
        }
        Step* buf = tb.data;
        const bool compact = steps * int64_t(sizeof(Step)) > PG_GEMV_STEP_BYTES;
        for (int64_t s = 0; s < (compact ? 0 : steps); ++s) {
            const bool tail = 2 * s + 1 == nb;
            buf[s].xq = load_x(act + 64 * s, tail);
            buf[s].xc = x_corr(buf[s].xq);
            buf[s].dx = dx2(ad, 2 * s, tail);
        }
        const int64_t full = nb / 2;
        for (int64_t r = r0; r < r1; ++r) {
            const uint8_t* row = w + r * w_stride;
            __m512 acc = _mm512_setzero_ps();
            if (compact) {
                // long rows: the activation side is recomputed per step (it would not stay in L1)
                for (int64_t s = 0; s < full; ++s) {
                    const uint8_t* blk = row + 2 * s * D::bytes;
                    _mm_prefetch(reinterpret_cast<const char*>(blk + 768), _MM_HINT_T0);
                    const __m512i xq = load_x(act + 64 * s, false);
                    acc = update(acc, D::u2(blk, blk + D::bytes), dw2(blk, false), xq, x_corr(xq), dx2(ad, 2 * s, false));
                }
            } else {
                for (int64_t s = 0; s < full; ++s) {
                    const uint8_t* blk = row + 2 * s * D::bytes;
                    _mm_prefetch(reinterpret_cast<const char*>(blk + 768), _MM_HINT_T0);
                    acc = update(acc, D::u2(blk, blk + D::bytes), dw2(blk, false), buf[s].xq, buf[s].xc, buf[s].dx);
                }
            }
            if (full < steps) {
                const uint8_t* blk = row + 2 * full * D::bytes;
                const __m512i xq = load_x(act + 64 * full, true);
                acc = update(acc, D::u1(blk), dw2(blk, true), xq, x_corr(xq), dx2(ad, 2 * full, true));
            }
            y[r] = hsum16(acc);
        }
    }
};

// Q4_K: the 32 bytes of group g hold sub-blocks 2g (low nibbles) and 2g + 1 (high), which
// are the 64 activation values at 64g: one vector per group.
struct TileQ4KZ {
    template <int RM, int RN>
    static void tile(const uint8_t* const* wr, const uint8_t* const* xr, int64_t k, float* y, int64_t ldy,
                     int64_t rm, int64_t rn) {
        const int64_t nb = k / 256;
        const float* ad[RN];
        const int16_t* as[RN];
        PG_UNROLL
        for (int j = 0; j < RN; ++j) {
            ad[j] = reinterpret_cast<const float*>(xr[j] + act_d_offset(k));
            as[j] = reinterpret_cast<const int16_t*>(xr[j] + act_sum_offset(k, 256));
        }
        __m512 acc[RM][RN];
        PG_UNROLL
        for (int i = 0; i < RM; ++i)
            PG_UNROLL
            for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
        const __m512i m4 = _mm512_set1_epi8(0x0F);
        for (int64_t b = 0; b < nb; ++b) {
            __m512 dw[RM], dmw[RM];
            __m512i sc[RM];
            __m256i mdup[RM];
            __m512i isc[RM][RN];
            PG_UNROLL
            for (int i = 0; i < RM; ++i) {
                const uint8_t* blk = wr[i] + b * 144;
                dw[i] = _mm512_set1_ps(h2f(blk));
                dmw[i] = _mm512_set1_ps(h2f(blk + 2));
                __m128i sc16;
                TileQ4K::scales_mins(blk, &sc16, &mdup[i]);
                sc[i] = _mm512_castsi128_si512(sc16);
                PG_UNROLL
                for (int j = 0; j < RN; ++j) isc[i][j] = _mm512_setzero_si512();
            }
            PG_UNROLL
            for (int g = 0; g < 4; ++g) {
                __m512i u[RM], scv[RM];
                const __m512i idx = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(short(2 * g))),
                                                       _mm256_set1_epi16(short(2 * g + 1)), 1);
                PG_UNROLL
                for (int i = 0; i < RM; ++i) {
                    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr[i] + b * 144 + 16 + 32 * g));
                    u[i] = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1), m4);
                    scv[i] = _mm512_permutexvar_epi16(idx, sc[i]);
                }
                PG_UNROLL
                for (int j = 0; j < RN; ++j) {
                    const __m512i xq = _mm512_loadu_si512(reinterpret_cast<const void*>(xr[j] + b * 256 + 64 * g));
                    PG_UNROLL
                    for (int i = 0; i < RM; ++i)
                        isc[i][j] = _mm512_add_epi32(isc[i][j], _mm512_madd_epi16(_mm512_maddubs_epi16(u[i], xq), scv[i]));
                }
            }
            PG_UNROLL
            for (int j = 0; j < RN; ++j) {
                const __m256i xs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(as[j] + b * 16));
                const __m512 dx = _mm512_set1_ps(ad[j][b]);
                PG_UNROLL
                for (int i = 0; i < RM; ++i) {
                    const __m512i imin = _mm512_zextsi256_si512(_mm256_madd_epi16(xs, mdup[i]));
                    acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], dx), _mm512_cvtepi32_ps(isc[i][j]), acc[i][j]);
                    acc[i][j] = _mm512_fnmadd_ps(_mm512_mul_ps(dmw[i], dx), _mm512_cvtepi32_ps(imin), acc[i][j]);
                }
            }
        }
        PG_UNROLL
        for (int i = 0; i < RM; ++i)
            PG_UNROLL
            for (int j = 0; j < RN; ++j)
                if (i < rm && j < rn) y[j * ldy + i] = hsum16(acc[i][j]);
    }
};

// Q6_K: in half h, vector A holds values 128h + 0..63 (sub-blocks 8h + 0..3) and vector B
// values 128h + 64..127 (sub-blocks 8h + 4..7).
struct TileQ6KZ {
    template <int RM, int RN>
    static void tile(const uint8_t* const* wr, const uint8_t* const* xr, int64_t k, float* y, int64_t ldy,
                     int64_t rm, int64_t rn) {
        const int64_t nb = k / 256;
        const float* ad[RN];
        const int16_t* as[RN];
        PG_UNROLL
        for (int j = 0; j < RN; ++j) {
            ad[j] = reinterpret_cast<const float*>(xr[j] + act_d_offset(k));
            as[j] = reinterpret_cast<const int16_t*>(xr[j] + act_sum_offset(k, 256));
        }
        __m512 acc[RM][RN];
        PG_UNROLL
        for (int i = 0; i < RM; ++i)
            PG_UNROLL
            for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
        const __m512i m4 = _mm512_set1_epi8(0x0F), m3 = _mm512_set1_epi8(3);
        for (int64_t b = 0; b < nb; ++b) {
            __m512 dw[RM];
            __m256i sc16[RM];
            __m512i isum[RM][RN];
            PG_UNROLL
            for (int i = 0; i < RM; ++i) {
                const uint8_t* blk = wr[i] + b * 210;
                dw[i] = _mm512_set1_ps(h2f(blk + 208));
                sc16[i] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192)));
                PG_UNROLL
                for (int j = 0; j < RN; ++j) isum[i][j] = _mm512_setzero_si512();
            }
            PG_UNROLL
            for (int h = 0; h < 2; ++h) {
                PG_UNROLL
                for (int half = 0; half < 2; ++half) {  // 0: vector A, 1: vector B
                    __m512i q[RM], scv[RM];
                    // int16 element m of the products covers values 2m, 2m + 1: sub-block m / 8
                    __m512i idx;
                    {
                        alignas(64) int16_t ix[32];
                        for (int m = 0; m < 32; ++m) ix[m] = int16_t(8 * h + 4 * half + m / 8);
                        idx = _mm512_load_si512(reinterpret_cast<const void*>(ix));
                    }
                    PG_UNROLL
                    for (int i = 0; i < RM; ++i) {
                        const uint8_t* blk = wr[i] + b * 210;
                        const __m512i l = _mm512_loadu_si512(reinterpret_cast<const void*>(blk + 64 * h));
                        const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h));
                        const __m512i hb2 = _mm512_inserti64x4(
                            _mm512_castsi256_si512(_mm256_srli_epi16(hb, 4 * half)), _mm256_srli_epi16(hb, 4 * half + 2), 1);
                        const __m512i lo4 = _mm512_and_si512(half ? _mm512_srli_epi16(l, 4) : l, m4);
                        q[i] = _mm512_or_si512(lo4, _mm512_slli_epi16(_mm512_and_si512(hb2, m3), 4));
                        scv[i] = _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(sc16[i]));
                    }
                    PG_UNROLL
                    for (int j = 0; j < RN; ++j) {
                        const __m512i xq = _mm512_loadu_si512(
                            reinterpret_cast<const void*>(xr[j] + b * 256 + 128 * h + 64 * half));
                        PG_UNROLL
                        for (int i = 0; i < RM; ++i)
                            isum[i][j] = _mm512_add_epi32(isum[i][j], _mm512_madd_epi16(_mm512_maddubs_epi16(q[i], xq), scv[i]));
                    }
                }
            }
            PG_UNROLL
            for (int j = 0; j < RN; ++j) {
                const __m256i xs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(as[j] + b * 16));
                const __m512 dx = _mm512_set1_ps(ad[j][b]);
                PG_UNROLL
                for (int i = 0; i < RM; ++i) {
                    const __m512i corr = _mm512_zextsi256_si512(_mm256_slli_epi32(_mm256_madd_epi16(xs, sc16[i]), 5));
                    const __m512i v = _mm512_sub_epi32(isum[i][j], corr);
                    acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(dw[i], dx), _mm512_cvtepi32_ps(v), acc[i][j]);
                }
            }
        }
        PG_UNROLL
        for (int i = 0; i < RM; ++i)
            PG_UNROLL
            for (int j = 0; j < RN; ++j)
                if (i < rm && j < rn) y[j * ldy + i] = hsum16(acc[i][j]);
    }
};

}  // namespace

double peak_burst(bool int8, int64_t iters) {
    if (int8) {
        const __m512i u = _mm512_set1_epi8(1), x = _mm512_set1_epi8(2);
        return burst(iters, _mm512_set1_epi32(1), [&](__m512i a) { return _mm512_dpbusd_epi32(a, u, x); }, 128.0);
    }
    const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-3f);
    return burst(iters, _mm512_set1_ps(1.0f), [&](__m512 a) { return _mm512_fmadd_ps(a, m, c); }, 32.0);
}

#include "kernels/cpu/gemm_avx512_x4.inc"

GemmKernel gemm_kernel(DType type) {
    GemmKernel g = make_kernel_256(type);
    switch (type) {
        case DType::Q8_0: g.gemm = &X4<ZQ8_0>::gemm; break;
        case DType::Q4_0: g.gemm = &X4<ZQ4_0>::gemm; break;
        case DType::Q5_0: g.gemm = &X4<ZQ5_0>::gemm; break;
        case DType::MXFP4: g.gemm = &X4<ZMxfp4>::gemm; break;
        case DType::Q4_K: g.gemm = &gemm_driver<TileQ4KZ, 2, 4, 1>; break;
        case DType::Q6_K: g.gemm = &gemm_driver<TileQ6KZ, 2, 4, 1>; break;
        default: break;
    }
    return g;
}

}  // namespace pangolin::avx512

#pragma GCC diagnostic pop
