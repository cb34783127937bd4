// Scalar references: the plain-C++ definition of every stored format. SIMD kernels are
// tested against these; they favour clarity over speed.
#pragma once

#include <cstdint>

#include "core/blocks.h"
#include "core/dtype.h"

namespace pangolin {

// Dequantizes n values of a row stored as `type` (n a multiple of the block size).
void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n);

// Quantizers, bit-identical to llama.cpp's reference quantizers (quantize_row_*_ref).
void quantize_row_q8_0_ref(const float* x, BlockQ8_0* y, int64_t n);
void quantize_row_q4_0_ref(const float* x, BlockQ4_0* y, int64_t n);
void quantize_row_q5_0_ref(const float* x, BlockQ5_0* y, int64_t n);
void quantize_row_mxfp4_ref(const float* x, BlockMXFP4* y, int64_t n);
void quantize_row_q8_k_ref(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace pangolin
