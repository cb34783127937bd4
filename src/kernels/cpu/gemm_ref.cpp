// Scalar references of the tiled kernels (kernels/cpu/gemm.h): activation quantization and
// the integer block dot products in plain C++. Every SIMD kernel is tested against these.
#include <cmath>
#include <cstring>
#include <vector>

#include "core/blocks.h"
#include "core/fp.h"
#include "core/quant_ref.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/matmul.h"  // dot_f32_ref

namespace pangolin::ref {

void quantize_act(const float* x, int64_t k, uint8_t* out, const ActFormat& f) {
    auto* d = reinterpret_cast<float*>(out + f.d_offset(k));
    auto* sums = reinterpret_cast<int16_t*>(out + f.sum_offset(k));
    for (int64_t b = 0; b < k / f.block; ++b) {
        const float* xb = x + b * f.block;
        float amax = 0.0f;
        for (int j = 0; j < f.block; ++j) amax = std::max(amax, std::fabs(xb[j]));
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        d[b] = amax / 127.0f;
        for (int j = 0; j < f.block; ++j) {
            const int q = int(std::nearbyint(xb[j] * id));
            out[b * f.block + j] = uint8_t(int8_t(q));
        }
    }
    for (int64_t s = 0; s < k / 16; ++s) {
        int sum = 0;
        for (int j = 0; j < 16; ++j) sum += int8_t(out[s * 16 + j]);
        sums[s] = int16_t(sum);
    }
}

namespace {

// Block b of a 32-value type as signed integers and its scale: value = d * q[j].
void decode32(DType type, const uint8_t* row, int64_t b, int8_t* q, float* d) {
    switch (type) {
        case DType::Q8_0: {
            const auto& blk = reinterpret_cast<const BlockQ8_0*>(row)[b];
            *d = f16_to_f32(blk.d);
            std::memcpy(q, blk.qs, 32);
            return;
        }
        case DType::Q4_0: {
            const auto& blk = reinterpret_cast<const BlockQ4_0*>(row)[b];
            *d = f16_to_f32(blk.d);
            for (int j = 0; j < 16; ++j) {
                q[j] = int8_t((blk.qs[j] & 0xF) - 8);
                q[j + 16] = int8_t((blk.qs[j] >> 4) - 8);
            }
            return;
        }
        case DType::Q5_0: {
            const auto& blk = reinterpret_cast<const BlockQ5_0*>(row)[b];
            *d = f16_to_f32(blk.d);
            uint32_t qh;
            std::memcpy(&qh, blk.qh, 4);
            for (int j = 0; j < 16; ++j) {
                q[j] = int8_t(((blk.qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16);
                q[j + 16] = int8_t(((blk.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
            }
            return;
        }
        case DType::MXFP4: {
            const auto& blk = reinterpret_cast<const BlockMXFP4*>(row)[b];
            *d = e8m0_to_f32_half(blk.e);
            for (int j = 0; j < 16; ++j) {
                q[j] = k_mxfp4_values[blk.qs[j] & 0xF];
                q[j + 16] = k_mxfp4_values[blk.qs[j] >> 4];
            }
            return;
        }
        default:
            return;
    }
}

struct ActRow {
    const int8_t* q;
    const float* d;
    const int16_t* sums;
};

float dot32(DType type, const uint8_t* row, const ActRow& x, int64_t k) {
    double acc = 0;
    int8_t q[32];
    for (int64_t b = 0; b < k / 32; ++b) {
        float d = 0;
        decode32(type, row, b, q, &d);
        int32_t isum = 0;
        for (int j = 0; j < 32; ++j) isum += int32_t(q[j]) * int32_t(x.q[b * 32 + j]);
        acc += double(d * x.d[b]) * double(isum);
    }
    return float(acc);
}

// Q4_K: Σ_s sc_s Σ q·x (scales) and Σ_s m_s Σ x (mins), per super-block.
float dot_q4_k(const uint8_t* row, const ActRow& x, int64_t k) {
    const auto* blocks = reinterpret_cast<const BlockQ4_K*>(row);
    double acc = 0;
    for (int64_t b = 0; b < k / k_qk_elems; ++b) {
        const BlockQ4_K& blk = blocks[b];
        const int8_t* xq = x.q + b * k_qk_elems;
        int32_t i_scales = 0, i_mins = 0;
        for (int s = 0; s < 8; ++s) {
            uint8_t sc, m;
            q4_k_scale_min(s, blk.scales, &sc, &m);
            const uint8_t* qs = blk.qs + 32 * (s / 2);
            int32_t sum = 0;
            for (int l = 0; l < 32; ++l) {
                const int q = (s % 2) ? (qs[l] >> 4) : (qs[l] & 0xF);
                sum += q * int32_t(xq[32 * s + l]);
            }
            i_scales += int32_t(sc) * sum;
            const int16_t* xs = x.sums + b * 16 + 2 * s;
            i_mins += int32_t(m) * (int32_t(xs[0]) + int32_t(xs[1]));
        }
        const float dx = x.d[b];
        acc += double(f16_to_f32(blk.d) * dx) * double(i_scales);
        acc -= double(f16_to_f32(blk.dmin) * dx) * double(i_mins);
    }
    return float(acc);
}

// Q6_K: Σ_s sc_s Σ (q - 32)·x over 16 sub-blocks of 16 (layout in core/blocks.h).
float dot_q6_k(const uint8_t* row, const ActRow& x, int64_t k) {
    const auto* blocks = reinterpret_cast<const BlockQ6_K*>(row);
    double acc = 0;
    int q[k_qk_elems];
    for (int64_t b = 0; b < k / k_qk_elems; ++b) {
        const BlockQ6_K& blk = blocks[b];
        for (int h = 0; h < 2; ++h) {
            const uint8_t* ql = blk.ql + 64 * h;
            const uint8_t* qh = blk.qh + 32 * h;
            int* o = q + 128 * h;
            for (int l = 0; l < 32; ++l) {
                o[l] = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                o[l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                o[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                o[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            }
        }
        const int8_t* xq = x.q + b * k_qk_elems;
        int32_t isum = 0;
        for (int s = 0; s < 16; ++s) {
            int32_t sum = 0;
            for (int l = 0; l < 16; ++l) sum += q[16 * s + l] * int32_t(xq[16 * s + l]);
            isum += int32_t(blk.scales[s]) * sum;
        }
        acc += double(f16_to_f32(blk.d) * x.d[b]) * double(isum);
    }
    return float(acc);
}

template <DType T>
void gemm_int(const uint8_t* w, int64_t w_stride, int64_t k, int64_t r0, int64_t r1,
              const uint8_t* act, int64_t act_stride, int64_t n, float* y, int64_t ldy) {
    const GemmKernel kern = gemm_kernel(T);
    for (int64_t t = 0; t < n; ++t) {
        const uint8_t* a = act + t * act_stride;
        const ActRow x{reinterpret_cast<const int8_t*>(a),
                       reinterpret_cast<const float*>(a + kern.act.d_offset(k)),
                       reinterpret_cast<const int16_t*>(a + kern.act.sum_offset(k))};
        for (int64_t r = r0; r < r1; ++r) {
            const uint8_t* row = w + r * w_stride;
            float v;
            if constexpr (T == DType::Q4_K)
                v = dot_q4_k(row, x, k);
            else if constexpr (T == DType::Q6_K)
                v = dot_q6_k(row, x, k);
            else
                v = dot32(T, row, x, k);
            y[t * ldy + r] = v;
        }
    }
}

template <DType T>
void gemm_float(const uint8_t* w, int64_t w_stride, int64_t k, int64_t r0, int64_t r1,
                const uint8_t* act, int64_t act_stride, int64_t n, float* y, int64_t ldy) {
    std::vector<float> row(static_cast<size_t>(k));
    for (int64_t r = r0; r < r1; ++r) {
        dequantize_row_ref(T, w + r * w_stride, row.data(), k);
        for (int64_t t = 0; t < n; ++t)
            y[t * ldy + r] =
                dot_f32_ref(row.data(), reinterpret_cast<const float*>(act + t * act_stride), k);
    }
}

template <int Block>
void quantize_signed(const float* x, int64_t k, uint8_t* out) {
    quantize_act(x, k, out, ActFormat{Block});
}

}  // namespace

GemmKernel gemm_kernel(DType type) {
    GemmKernel g;
    switch (type) {
        case DType::F32:
            g.gemm = &gemm_float<DType::F32>;
            return g;
        case DType::F16:
            g.gemm = &gemm_float<DType::F16>;
            return g;
        case DType::BF16:
            g.gemm = &gemm_float<DType::BF16>;
            return g;
        case DType::Q8_0:
            g.gemm = &gemm_int<DType::Q8_0>;
            break;
        case DType::Q4_0:
            g.gemm = &gemm_int<DType::Q4_0>;
            break;
        case DType::Q5_0:
            g.gemm = &gemm_int<DType::Q5_0>;
            break;
        case DType::MXFP4:
            g.gemm = &gemm_int<DType::MXFP4>;
            break;
        case DType::Q4_K:
            g.gemm = &gemm_int<DType::Q4_K>;
            break;
        case DType::Q6_K:
            g.gemm = &gemm_int<DType::Q6_K>;
            break;
        default:
            return g;
    }
    const bool k_quant = type == DType::Q4_K || type == DType::Q6_K;
    g.act = ActFormat{k_quant ? k_qk_elems : 32};
    g.quantize = k_quant ? &quantize_signed<k_qk_elems> : &quantize_signed<32>;
    return g;
}

}  // namespace pangolin::ref
