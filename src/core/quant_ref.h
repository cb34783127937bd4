// Scalar references: the plain-C++ definition of every stored format. SIMD kernels are
// tested against these; they favour clarity over speed.
#pragma once

#include <cstdint>

#include "core/blocks.h"
#include "core/dtype.h"

namespace pangolin {

// Dequantizes n values of a row stored as `type` (n a multiple of the block size).
void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n);

// Quantizers, bit-identical to llama.cpp's reference quantizers (quantize_row_*_ref, which
// llama-quantize uses when it has no importance matrix). n is a multiple of the block size.
void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n);
void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n);
void quantize_row_mxfp4_ref(const float* x, BlockMXFP4* y, int64_t n);
void quantize_row_q8_k_ref(const float* x, BlockQ8_K* y, int64_t n);
// K-quants (core/quant_k_ref.cpp).
void quantize_row_q4_k_ref(const float* x, BlockQ4_K* y, int64_t n);
void quantize_row_q5_k_ref(const float* x, BlockQ5_K* y, int64_t n);
void quantize_row_q6_k_ref(const float* x, BlockQ6_K* y, int64_t n);

// Block-scaled FP8 (E4M3 values, one E8M0 scale per block × block tile): the scale of a tile
// is the smallest power of two that brings its largest magnitude within ±448.
uint8_t fp8_block_exponent(float amax);
// Quantizes a band of n_rows ≤ block rows of `cols` values (row-major x) into E4M3 codes q
// (same layout) and the band's ceil(cols / block) scale exponents e.
void quantize_fp8_band_ref(const float* x, int64_t n_rows, int64_t cols, int64_t block, uint8_t* q,
                           uint8_t* e);

// Quantizes n values (one row, n a multiple of the block size) into `type` (F32, F16, BF16
// and every block type above except Q8_K); dst holds dtype_row_bytes(type, n) bytes.
void quantize_row_ref(DType type, const float* src, void* dst, int64_t n);

}  // namespace pangolin
