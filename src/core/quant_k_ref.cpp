// Reference quantizers for the K-quant super-blocks (Q4_K, Q5_K, Q6_K) and for block-scaled
// FP8. The K-quant search follows the algorithm of llama.cpp's quantize_row_q{4,5,6}_K_ref
// (no importance matrix) step for step, in the same float operation order, so that files made
// here match llama-quantize's byte for byte; the comments say what each step computes.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp.h"
#include "core/quant_ref.h"

namespace pangolin {

namespace {

// Round to nearest, ties to even (ggml's nearest_int adds 1.5·2^23, which rounds the same way).
int nearest_int(float f) {
    return int(std::nearbyint(f));
}

// Fits x[0..n) ≈ scale·L − min with integer L in [0, nmax] and min ≥ 0, minimizing
// Σ w·(scale·L − min − x)². Starts from the range fit (max − min) / nmax, then tries nstep + 1
// other scales iscale = (nmax + rmin + rdelta·is) / (max − min), each followed by the weighted
// least-squares scale and min for the L it rounds to, and keeps the lowest error.
float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min,
                    uint8_t* Laux, float rmin, float rdelta, int nstep) {
    float min = x[0], max = x[0];
    float sum_w = w[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        min = std::min(min, x[i]);
        max = std::max(max, x[i]);
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        std::fill(L, L + n, uint8_t(0));
        *the_min = -min;
        return 0.0f;
    }
    float iscale = float(nmax) / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        L[i] = uint8_t(std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax));
        const float diff = scale * float(L[i]) + min - x[i];
        best_error += w[i] * (diff * diff);
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = uint8_t(l);
            sum_l += w[i] * float(l);
            sum_l2 += w[i] * float(l) * float(l);
            sum_xl += w[i] * float(l) * x[i];
        }
        const float det = sum_w * sum_l2 - sum_l * sum_l;
        if (det > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                const float diff = this_scale * float(Laux[i]) + this_min - x[i];
                cur_error += w[i] * (diff * diff);
            }
            if (cur_error < best_error) {
                std::copy(Laux, Laux + n, L);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

// Fits x[0..n) ≈ scale·(L − nmax) with L − nmax in [−nmax, nmax − 1], weights x², starting
// from the scale that maps the largest magnitude to −nmax and trying 18 nearby ones
// (nmax ± 0.1·is); returns the least-squares scale of the best. L holds the offset codes.
float fit_scale_symmetric(int n, int nmax, const float* x, int8_t* L) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = std::fabs(x[i]);
        if (ax > amax) {
            amax = ax;
            max = x[i];
        }
    }
    if (amax < 1e-15f) {
        std::fill(L, L + n, int8_t(0));
        return 0.0f;
    }
    auto code = [nmax](float v) { return std::clamp(nearest_int(v), -nmax, nmax - 1); };
    float iscale = float(-nmax) / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = code(iscale * x[i]);
        L[i] = int8_t(l + nmax);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * float(l);
        suml2 += w * float(l) * float(l);
    }
    float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(float(nmax) + 0.1f * float(is)) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            const int l = code(iscale * x[i]);
            const float w = x[i] * x[i];
            sumlx += w * x[i] * float(l);
            suml2 += w * float(l) * float(l);
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) L[i] = int8_t(nmax + code(iscale * x[i]));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

// Q4_K / Q5_K: per sub-block of 32 a (scale, min) fit with weights rms(sub-block) + |x|, the
// eight scales and mins quantized to 6 bits against the super-block maxima, then every value
// re-rounded with the stored (f16 × 6-bit) scale and min.
template <int NMax>
void quantize_k_superblock(const float* x, uint16_t& d_out, uint16_t& dmin_out, uint8_t* scales_out,
                           uint8_t* L, float rmin, float rdelta, int nstep) {
    uint8_t Laux[32];
    float weights[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
        scales[j] =
            fit_scale_min(32, NMax, xs, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; ++j) {
        // (as in ggml, a negative code wraps in the uint8_t before the clamp to 63)
        const uint8_t ls = std::min<uint8_t>(63, uint8_t(nearest_int(inv_scale * scales[j])));
        const uint8_t lm = std::min<uint8_t>(63, uint8_t(nearest_int(inv_min * mins[j])));
        if (j < 4) {
            scales_out[j] = ls;
            scales_out[j + 4] = lm;
        } else {
            scales_out[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
            scales_out[j - 4] |= uint8_t((ls >> 4) << 6);
            scales_out[j] |= uint8_t((lm >> 4) << 6);
        }
    }
    d_out = f32_to_f16(max_scale / 63.0f);
    dmin_out = f32_to_f16(max_min / 63.0f);
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        q4_k_scale_min(j, scales_out, &sc, &m);
        const float d = f16_to_f32(d_out) * float(sc);
        if (d == 0.0f) continue;  // keeps the codes of the fit
        const float dm = f16_to_f32(dmin_out) * float(m);
        for (int l = 0; l < 32; ++l)
            L[32 * j + l] = uint8_t(std::clamp(nearest_int((x[32 * j + l] + dm) / d), 0, NMax));
    }
}

}  // namespace

void quantize_row_q4_k_ref(const float* x, BlockQ4_K* y, int64_t n) {
    uint8_t L[k_qk_elems];
    for (int64_t i = 0; i < n / k_qk_elems; ++i, x += k_qk_elems) {
        quantize_k_superblock<15>(x, y[i].d, y[i].dmin, y[i].scales, L, -1.0f, 0.1f, 20);
        uint8_t* q = y[i].qs;
        for (int j = 0; j < k_qk_elems; j += 64, q += 32)
            for (int l = 0; l < 32; ++l) q[l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
    }
}

void quantize_row_q5_k_ref(const float* x, BlockQ5_K* y, int64_t n) {
    uint8_t L[k_qk_elems];
    for (int64_t i = 0; i < n / k_qk_elems; ++i, x += k_qk_elems) {
        quantize_k_superblock<31>(x, y[i].d, y[i].dmin, y[i].scales, L, -0.5f, 0.1f, 15);
        std::memset(y[i].qh, 0, sizeof y[i].qh);
        uint8_t* q = y[i].qs;
        for (int g = 0; g < 4; ++g, q += 32) {
            for (int l = 0; l < 32; ++l) {
                const int lo = L[64 * g + l], hi = L[64 * g + 32 + l];
                if (lo > 15) y[i].qh[l] |= uint8_t(1u << (2 * g));
                if (hi > 15) y[i].qh[l] |= uint8_t(2u << (2 * g));
                q[l] = uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
            }
        }
    }
}

void quantize_row_q6_k_ref(const float* x, BlockQ6_K* y, int64_t n) {
    int8_t L[k_qk_elems];
    float scales[16];
    for (int64_t i = 0; i < n / k_qk_elems; ++i, x += k_qk_elems) {
        // per sub-block of 16 a symmetric 6-bit fit; the sub-block scales become int8 against
        // the one of largest magnitude (which maps to −128)
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < 16; ++ib) {
            scales[ib] = fit_scale_symmetric(16, 32, x + 16 * ib, L + 16 * ib);
            if (std::fabs(scales[ib]) > max_abs_scale) {
                max_abs_scale = std::fabs(scales[ib]);
                max_scale = scales[ib];
            }
        }
        if (max_abs_scale < 1e-15f) {
            std::memset(&y[i], 0, sizeof(BlockQ6_K));
            continue;
        }
        const float iscale = -128.0f / max_scale;
        y[i].d = f32_to_f16(1 / iscale);
        for (int ib = 0; ib < 16; ++ib)
            y[i].scales[ib] = int8_t(std::min(127, nearest_int(iscale * scales[ib])));
        for (int j = 0; j < 16; ++j) {
            const float d = f16_to_f32(y[i].d) * float(y[i].scales[j]);
            if (d == 0.0f) continue;  // keeps the codes of the fit
            for (int l = 0; l < 16; ++l)
                L[16 * j + l] = int8_t(std::clamp(nearest_int(x[16 * j + l] / d), -32, 31) + 32);
        }
        uint8_t* ql = y[i].ql;
        uint8_t* qh = y[i].qh;
        for (int j = 0; j < k_qk_elems; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
                ql[l] = uint8_t((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[l + 32] = uint8_t((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[l] = uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }
}

uint8_t fp8_block_exponent(float amax) {
    // smallest power of two s with amax / s ≤ 448 (the largest E4M3 value), as E8M0 (s = 2^(e−127))
    if (!(amax > 0.0f) || !std::isfinite(amax)) return 127;
    int e;
    const float m = std::frexp(amax / 448.0f, &e);  // amax/448 = m·2^e, m in [0.5, 1)
    const int exp = m == 0.5f ? e - 1 : e;
    return uint8_t(std::clamp(exp + 127, 1, 254));
}

void quantize_fp8_band_ref(const float* x, int64_t n_rows, int64_t cols, int64_t block, uint8_t* q,
                           uint8_t* e) {
    for (int64_t c0 = 0; c0 < cols; c0 += block) {
        const int64_t c1 = std::min(cols, c0 + block);
        float amax = 0;
        for (int64_t r = 0; r < n_rows; ++r)
            for (int64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(x[r * cols + c]));
        const uint8_t be = fp8_block_exponent(amax);
        e[c0 / block] = be;
        const int shift = 127 - int(be);  // x / 2^(be−127), exact
        for (int64_t r = 0; r < n_rows; ++r)
            for (int64_t c = c0; c < c1; ++c)
                q[r * cols + c] = f32_to_fp8_e4m3(std::ldexp(x[r * cols + c], shift));
    }
}

}  // namespace pangolin
