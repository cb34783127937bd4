// Matrix products against stored weights: y = x · Wᵀ for a batch of activation rows.
//
// Every output value y[t, r] is computed by one thread as dot(dequantized W row r, x row t)
// with a fixed summation order that depends only on the row length, so a token's result
// is the same whatever the thread count, the batch size or its position in the batch.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm.h"

namespace pangolin {

struct Weight;

// Decodes row r of w (w.cols() values) into out.
using DequantRowFn = void (*)(const Weight& w, int64_t r, float* out);
// Σ a[i]·b[i] for i < n.
using DotF32Fn = float (*)(const float* a, const float* b, int64_t n);

// A weight matrix as the kernels use it, built once at load: the stored tensor, for
// block-scaled FP8 its scale grid, and the kernels chosen for this CPU: a row decoder and
// dot product (embedding lookups, per-head products) and the tiled matrix kernel.
struct Weight {
    TensorView w;      // [rows, cols], any supported type
    TensorView scale;  // FP8 only: [ceil(rows/bs), ceil(cols/bs)], F32 or E8M0
    int64_t scale_block = 0;
    DequantRowFn dequant = nullptr;
    DotF32Fn dot = nullptr;
    GemmKernel kernel;  // gemm null: rows are decoded to float32 and dotted (FP8)

    int64_t rows() const { return w.rows(); }
    int64_t cols() const { return w.cols(); }
    bool valid() const { return w.data != nullptr; }
    // The FP8 block scale covering element (r, c).
    float block_scale(int64_t r, int64_t c) const;
};

// Wraps a stored tensor (and its FP8 scale grid, if any) with kernels for `level`.
Weight make_weight(const TensorView& w, SimdLevel level = simd_level());
Weight make_weight_fp8(const TensorView& w, const TensorView& scale, int64_t block,
                       SimdLevel level = simd_level());

// y[t * ldy + r] = Σ_k W[r, k] · x[t * x_stride + k] for t < n_tokens, r < rows.
void matmul(const Weight& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
            int64_t ldy, ThreadPool& pool);

// One product of a fused group: y = x · Wᵀ into y with row stride ldy.
struct MatmulOut {
    const Weight* w;
    float* y;
    int64_t ldy;
};
// Several products of the same input in one parallel pass (e.g. q, k and v; gate and up):
// the input is quantized once per activation format and the rows of all weights are
// split over the threads together. Results are those of separate matmul() calls.
void matmul_fused(const MatmulOut* outs, int n_outs, const float* x, int64_t x_stride,
                  int64_t n_tokens, ThreadPool& pool);

// One product of a batch of independent products: y = x · Wᵀ (n_tokens rows of x).
struct MatmulJob {
    const Weight* w;
    const float* x;
    int64_t x_stride, n_tokens;
    float* y;
    int64_t ldy;
};
// Independent products in one parallel pass (e.g. the experts of a mixture-of-experts
// layer, each over its own tokens): inputs are quantized once each (shared when the same
// input and format recur) and the rows of all weights are split over the threads together.
// Results are those of separate matmul() calls.
void matmul_jobs(const MatmulJob* jobs, int n_jobs, ThreadPool& pool);

// Single-threaded form over a row range, for callers that split work themselves.
void matmul_rows(const Weight& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
                 int64_t ldy, int64_t row_begin, int64_t row_end);

// Products against a block of rows of W, on the calling thread (callers parallelize over
// heads or tokens). Used for per-head up-projections such as MLA's absorbed attention.
// y[r] = W[row0 + r, :] · x for r < n_rows.
void matvec_rows(const Weight& w, int64_t row0, int64_t n_rows, const float* x, float* y);
// y[c] = Σ_r x[r] · W[row0 + r, c] for c < cols (the transposed product), summed in row order.
void matvec_rows_t(const Weight& w, int64_t row0, int64_t n_rows, const float* x, float* y);

// Per-level kernel tables (exposed for the parity tests).
DequantRowFn dequant_row_fn(DType type, bool fp8_block_scaled, SimdLevel level);
DotF32Fn dot_f32_fn(SimdLevel level);

// Scalar references.
float dot_f32_ref(const float* a, const float* b, int64_t n);
void dequant_row_ref(const Weight& w, int64_t r, float* out);

#if defined(PANGOLIN_HAVE_AVX2)
namespace avx2 {
DequantRowFn dequant_row_fn(DType type, bool fp8_block_scaled);
float dot_f32(const float* a, const float* b, int64_t n);
}  // namespace avx2
#endif

}  // namespace pangolin
