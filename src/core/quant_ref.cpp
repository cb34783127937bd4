#include "core/quant_ref.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/fp.h"

namespace pangolin {

uint8_t f32_to_fp8_e4m3(float f) {
    const uint32_t x = f32_bits(f);
    const uint8_t sign = uint8_t((x >> 24) & 0x80);
    const uint32_t abs = x & 0x7fffffff;
    if (abs > 0x7f800000u) return uint8_t(sign | 0x7f);  // NaN
    const float a = f32_from_bits(abs);
    if (a >= 448.0f) return uint8_t(sign | 0x7e);  // saturate to the largest finite value
    if (a < 0.015625f) {
        // subnormal range (below 2^-6): steps of 2^-9, linear in the code; 8 is 2^-6.
        return uint8_t(sign | uint8_t(std::nearbyint(a * 512.0f)));
    }
    const uint32_t rounded = abs + 0x7ffff + ((abs >> 20) & 1);  // nearest even on bit 20
    uint32_t code = (rounded >> 20) - (120u << 3);
    if (code > 0x7e) code = 0x7e;
    return uint8_t(sign | code);
}

namespace {

void dequant_q8_0(const BlockQ8_0* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(b[i].d);
        for (int j = 0; j < k_q8_0_elems; ++j) y[i * k_q8_0_elems + j] = float(b[i].qs[j]) * d;
    }
}

void dequant_q4_0(const BlockQ4_0* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(b[i].d);
        for (int j = 0; j < 16; ++j) {
            y[i * 32 + j] = float((b[i].qs[j] & 0xF) - 8) * d;
            y[i * 32 + j + 16] = float((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void dequant_q5_0(const BlockQ5_0* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(b[i].d);
        uint32_t qh;
        std::memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < 16; ++j) {
            const int lo = int((b[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4));
            const int hi = int((b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
            y[i * 32 + j] = float(lo - 16) * d;
            y[i * 32 + j + 16] = float(hi - 16) * d;
        }
    }
}

void dequant_mxfp4(const BlockMXFP4* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = e8m0_to_f32_half(b[i].e);
        for (int j = 0; j < 16; ++j) {
            y[i * 32 + j] = float(k_mxfp4_values[b[i].qs[j] & 0xF]) * d;
            y[i * 32 + j + 16] = float(k_mxfp4_values[b[i].qs[j] >> 4]) * d;
        }
    }
}

void dequant_q4_k(const BlockQ4_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(b[i].d);
        const float dmin = f16_to_f32(b[i].dmin);
        const uint8_t* q = b[i].qs;
        for (int g = 0; g < 4; ++g) {
            uint8_t sc, m;
            q4_k_scale_min(2 * g, b[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            q4_k_scale_min(2 * g + 1, b[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
            q += 32;
        }
    }
}

void dequant_q6_k(const BlockQ6_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(b[i].d);
        const uint8_t* ql = b[i].ql;
        const uint8_t* qh = b[i].qh;
        const int8_t* sc = b[i].scales;
        for (int half = 0; half < 2; ++half) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = int((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = int((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * float(sc[is + 0]) * float(q1);
                y[l + 32] = d * float(sc[is + 2]) * float(q2);
                y[l + 64] = d * float(sc[is + 4]) * float(q3);
                y[l + 96] = d * float(sc[is + 6]) * float(q4);
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

void dequant_q5_k(const BlockQ5_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = f16_to_f32(b[i].d);
        const float dmin = f16_to_f32(b[i].dmin);
        const uint8_t* q = b[i].qs;
        for (int g = 0; g < 4; ++g) {
            uint8_t sc, m;
            q4_k_scale_min(2 * g, b[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            q4_k_scale_min(2 * g + 1, b[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            const uint8_t lo_bit = uint8_t(1u << (2 * g)), hi_bit = uint8_t(2u << (2 * g));
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * float((q[l] & 0xF) + (b[i].qh[l] & lo_bit ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * float((q[l] >> 4) + (b[i].qh[l] & hi_bit ? 16 : 0)) - m2;
            q += 32;
        }
    }
}

void dequant_q8_k(const BlockQ8_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i)
        for (int j = 0; j < k_qk_elems; ++j) y[i * k_qk_elems + j] = b[i].d * float(b[i].qs[j]);
}

}  // namespace

void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n) {
    const int64_t nb = n / dtype_block_elems(type);
    require(nb * dtype_block_elems(type) == n, "row of ", n, " values is not a whole number of ",
            dtype_name(type), " blocks");
    switch (type) {
        case DType::F32:
            std::memcpy(dst, src, size_t(n) * 4);
            return;
        case DType::F16: {
            const auto* s = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]);
            return;
        }
        case DType::BF16: {
            const auto* s = static_cast<const uint16_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
            return;
        }
        case DType::F8_E4M3: {
            const auto* s = static_cast<const uint8_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = fp8_e4m3_to_f32(s[i]);
            return;
        }
        case DType::E8M0: {
            const auto* s = static_cast<const uint8_t*>(src);
            for (int64_t i = 0; i < n; ++i) dst[i] = e8m0_to_f32(s[i]);
            return;
        }
        case DType::Q8_0:
            return dequant_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb);
        case DType::Q4_0:
            return dequant_q4_0(static_cast<const BlockQ4_0*>(src), dst, nb);
        case DType::Q5_0:
            return dequant_q5_0(static_cast<const BlockQ5_0*>(src), dst, nb);
        case DType::MXFP4:
            return dequant_mxfp4(static_cast<const BlockMXFP4*>(src), dst, nb);
        case DType::Q4_K:
            return dequant_q4_k(static_cast<const BlockQ4_K*>(src), dst, nb);
        case DType::Q6_K:
            return dequant_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb);
        case DType::Q8_K:
            return dequant_q8_k(static_cast<const BlockQ8_K*>(src), dst, nb);
        case DType::Q5_K:
            return dequant_q5_k(static_cast<const BlockQ5_K*>(src), dst, nb);
        default:
            fail("cannot dequantize values of type ", dtype_name(type));
    }
}

void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n) {
    const int64_t nb = n / k_q8_0_elems;
    for (int64_t i = 0; i < nb; ++i) {
        float amax = 0.0f;
        for (int j = 0; j < k_q8_0_elems; ++j) amax = std::max(amax, std::fabs(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_f16(d);
        for (int j = 0; j < k_q8_0_elems; ++j) y[i].qs[j] = int8_t(std::round(x[j] * id));
        x += k_q8_0_elems;
    }
}

namespace {

// The value of largest magnitude among x[0..n) (the first one on ties), sign kept.
float signed_absmax(const float* x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

}  // namespace

void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n) {
    const int64_t nb = n / k_q4_0_elems;
    for (int64_t i = 0; i < nb; ++i) {
        const float d = signed_absmax(x, 32) / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_f16(d);
        for (int j = 0; j < 16; ++j) {
            const uint8_t q0 = uint8_t(std::min(15, int(int8_t(x[j] * id + 8.5f))));
            const uint8_t q1 = uint8_t(std::min(15, int(int8_t(x[j + 16] * id + 8.5f))));
            y[i].qs[j] = uint8_t(q0 | (q1 << 4));
        }
        x += 32;
    }
}

void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n) {
    const int64_t nb = n / k_q5_0_elems;
    for (int64_t i = 0; i < nb; ++i) {
        const float d = signed_absmax(x, 32) / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = f32_to_f16(d);
        uint32_t qh = 0;
        for (int j = 0; j < 16; ++j) {
            const uint8_t q0 = uint8_t(std::min(31, int(int8_t(x[j] * id + 16.5f))));
            const uint8_t q1 = uint8_t(std::min(31, int(int8_t(x[j + 16] * id + 16.5f))));
            y[i].qs[j] = uint8_t((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= uint32_t(q0 >> 4) << j;
            qh |= uint32_t(q1 >> 4) << (j + 16);
        }
        std::memcpy(y[i].qh, &qh, 4);
        x += 32;
    }
}

void quantize_row_mxfp4_ref(const float* x, BlockMXFP4* y, int64_t n) {
    const int64_t nb = n / k_mxfp4_elems;
    for (int64_t i = 0; i < nb; ++i) {
        float amax = 0.0f;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
        const uint8_t e = amax > 0.0f ? uint8_t(std::floor(std::log2(amax)) - 2 + 127) : 0;
        const float d = e8m0_to_f32_half(e);
        y[i].e = e;
        auto best = [d](float v) {
            int best_index = 0;
            float best_err = std::fabs(float(k_mxfp4_values[0]) * d - v);
            for (int k = 1; k < 16; ++k) {
                const float err = std::fabs(float(k_mxfp4_values[k]) * d - v);
                if (err < best_err) {
                    best_index = k;
                    best_err = err;
                }
            }
            return uint8_t(best_index);
        };
        for (int j = 0; j < 16; ++j) y[i].qs[j] = uint8_t(best(x[j]) | (best(x[j + 16]) << 4));
        x += 32;
    }
}

void quantize_row_q8_k_ref(const float* x, BlockQ8_K* y, int64_t n) {
    const int64_t nb = n / k_qk_elems;
    for (int64_t i = 0; i < nb; ++i) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < k_qk_elems; ++j) {
            if (std::fabs(x[j]) > amax) {
                amax = std::fabs(x[j]);
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            std::memset(&y[i], 0, sizeof(BlockQ8_K));
            x += k_qk_elems;
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < k_qk_elems; ++j) {
            const int v = int(std::nearbyint(iscale * x[j]));
            y[i].qs[j] = int8_t(std::min(127, v));
        }
        for (int j = 0; j < k_qk_elems / 16; ++j) {
            int sum = 0;
            for (int k = 0; k < 16; ++k) sum += y[i].qs[j * 16 + k];
            y[i].bsums[j] = int16_t(sum);
        }
        y[i].d = 1.0f / iscale;
        x += k_qk_elems;
    }
}

void quantize_row_ref(DType type, const float* src, void* dst, int64_t n) {
    require(n % dtype_block_elems(type) == 0, "row of ", n, " values is not a whole number of ",
            dtype_name(type), " blocks");
    switch (type) {
        case DType::F32:
            std::memcpy(dst, src, size_t(n) * 4);
            return;
        case DType::F16: {
            auto* d = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
            return;
        }
        case DType::BF16: {
            auto* d = static_cast<uint16_t*>(dst);
            for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
            return;
        }
        case DType::Q8_0:
            return quantize_row_q8_0_ref(src, static_cast<BlockQ8_0*>(dst), n);
        case DType::Q4_0:
            return quantize_row_q4_0_ref(src, static_cast<BlockQ4_0*>(dst), n);
        case DType::Q5_0:
            return quantize_row_q5_0_ref(src, static_cast<BlockQ5_0*>(dst), n);
        case DType::MXFP4:
            return quantize_row_mxfp4_ref(src, static_cast<BlockMXFP4*>(dst), n);
        case DType::Q4_K:
            return quantize_row_q4_k_ref(src, static_cast<BlockQ4_K*>(dst), n);
        case DType::Q5_K:
            return quantize_row_q5_k_ref(src, static_cast<BlockQ5_K*>(dst), n);
        case DType::Q6_K:
            return quantize_row_q6_k_ref(src, static_cast<BlockQ6_K*>(dst), n);
        default:
            fail("cannot quantize values to type ", dtype_name(type));
    }
}

}  // namespace pangolin
