// Block layouts of the GGUF quantized types, byte for byte as ggml stores them.
// Element i of a row lives in block i / block_elems; within a block the order is given
// per type below. Scales are little-endian IEEE half (f16) unless stated.
#pragma once

#include <cstdint>

namespace pangolin {

constexpr int k_q8_0_elems = 32;
constexpr int k_q4_0_elems = 32;
constexpr int k_q5_0_elems = 32;
constexpr int k_mxfp4_elems = 32;
constexpr int k_qk_elems = 256;  // K-quant super-block

// Q8_0, 34 bytes: value[j] = d * qs[j], j = 0..31.
struct BlockQ8_0 {
    uint16_t d;  // f16 scale
    int8_t qs[k_q8_0_elems];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q4_0, 18 bytes: byte qs[j] holds value[j] in its low nibble and value[j + 16] in its
// high nibble (j = 0..15); value = d * (nibble - 8).
struct BlockQ4_0 {
    uint16_t d;  // f16 scale
    uint8_t qs[k_q4_0_elems / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q5_0, 22 bytes: like Q4_0's nibble order (value[j] low nibble, value[j + 16] high nibble
// of qs[j]), plus a fifth bit per value: bit j of the little-endian u32 in qh for value[j]
// (j = 0..31); value = d * (q5 - 16).
struct BlockQ5_0 {
    uint16_t d;  // f16 scale
    uint8_t qh[4];
    uint8_t qs[k_q5_0_elems / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// MXFP4 (OCP microscaling FP4), 17 bytes: like Q4_0's nibble order (value[j] low nibble,
// value[j + 16] high nibble of qs[j]); a nibble is an E2M1 code looked up in
// k_mxfp4_values (the E2M1 values doubled, so they are integers) and multiplied by
// 2^(e - 128), i.e. half the E8M0 scale 2^(e - 127).
struct BlockMXFP4 {
    uint8_t e;  // E8M0 exponent
    uint8_t qs[k_mxfp4_elems / 2];
};
static_assert(sizeof(BlockMXFP4) == 17);
inline constexpr int8_t k_mxfp4_values[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                              0, -1, -2, -3, -4, -6, -8, -12};

// Q4_K, 144 bytes: 256 values in 8 sub-blocks of 32. Sub-block s has a 6-bit scale sc[s]
// and 6-bit min m[s] packed in `scales` (see q4_k_scale_min); value = d*sc*q - dmin*m.
// Quants: 4 groups of 32 bytes; group g holds sub-block 2g in the low nibbles and
// sub-block 2g+1 in the high nibbles (value index 64g + l and 64g + 32 + l for byte l).
struct BlockQ4_K {
    uint16_t d;     // f16 super-scale for the scales
    uint16_t dmin;  // f16 super-scale for the mins
    uint8_t scales[12];
    uint8_t qs[k_qk_elems / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K block: for j < 4 the low 6 bits
// of scales[j] and scales[j + 4]; for j >= 4 the low/high nibble of scales[j + 4] with the
// two top bits of scales[j - 4] / scales[j].
inline void q4_k_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// Q5_K, 176 bytes: Q4_K's super-block (d, dmin, 8 packed 6-bit scales and mins, the same
// nibble order in qs) with a fifth bit per value: for value index 64g + l (low nibble) the
// high bit is bit 2g of qh[l], for 64g + 32 + l (high nibble) bit 2g + 1 of qh[l];
// value = d*sc*q - dmin*m with q = 0..31.
struct BlockQ5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[12];
    uint8_t qh[k_qk_elems / 8];
    uint8_t qs[k_qk_elems / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// Q6_K, 210 bytes: 256 values in two halves of 128. In half h (ql += 64h, qh += 32h,
// scales += 8h), for l = 0..31 the four values l, l+32, l+64, l+96 take their low 4 bits from
// ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high nibble and their high 2 bits from
// qh[l] bits 0-1, 2-3, 4-5, 6-7; q = bits - 32; value = d * scales[l/16 + 2*k] * q for the
// k-th of the four (16 sub-blocks of 16 values, int8 scales).
struct BlockQ6_K {
    uint8_t ql[k_qk_elems / 2];
    uint8_t qh[k_qk_elems / 4];
    int8_t scales[k_qk_elems / 16];
    uint16_t d;  // f16 super-scale
};
static_assert(sizeof(BlockQ6_K) == 210);

// Q8_K, 292 bytes (activations only, never stored in files we read): value = d * qs[j];
// bsums[i] = sum of qs[16i .. 16i+15], used by the K-quant dot products for the mins.
struct BlockQ8_K {
    float d;
    int8_t qs[k_qk_elems];
    int16_t bsums[k_qk_elems / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace pangolin
