// The tiled matrix-product kernels behind matmul(), per weight type and SIMD level.
//
// One kernel serves every batch size: it computes tiles of RM weight rows × RN tokens,
// and every output y[t, r] gets its own accumulator whose sequence of operations depends
// only on weight row r and activation row t (never on the tile shape, the batch size or
// the thread). A decode step (one token) and a 512-token prefill therefore produce
// bit-identical values for the same token.
//
// Integer kernels (Q8_0, Q4_0, Q5_0, MXFP4, Q4_K, Q6_K) first quantize each activation row
// to 8 bits (per row, so a row's quantization never depends on its neighbours) and compute
// exact integer block dot products, scaled and summed in float. Float kernels (F32, F16,
// BF16) read float32 activations directly and accumulate in float32.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/cpu/cpu_features.h"

namespace pangolin {

// Layout of one quantized activation row of k values (k a multiple of `block`):
//   bytes [0, k)               qs: q = nearbyint(x · 127 / amax_block), int8
//   at d_offset(k)             d: float32 per block, amax_block / 127
//   at sum_offset(k)           sums: int16 per 16 values, Σ q over those 16 (signed q)
// Rows are padded to 64 bytes.
struct ActFormat {
    int32_t block = 0;  // 32 or 256; 0: the kernel reads float32 activations

    static int64_t align64(int64_t n) { return (n + 63) / 64 * 64; }
    int64_t d_offset(int64_t k) const { return align64(k); }
    int64_t sum_offset(int64_t k) const { return align64(k) + align64(k / block * 4); }
    int64_t row_bytes(int64_t k) const {
        return block == 0 ? k * 4 : sum_offset(k) + align64(k / 16 * 2);
    }
};

// Quantizes one activation row of k values into `out` (ActFormat layout).
using QuantizeActFn = void (*)(const float* x, int64_t k, uint8_t* out);
// y[t * ldy + r] for r in [r0, r1), t < n: weight rows (w + r * w_stride, k values each)
// times activation rows (n rows act_stride bytes apart, quantized, or float32 when the
// format's block is 0). Plain pointers only: the SIMD files include no shared inline code.
using GemmFn = void (*)(const uint8_t* w, int64_t w_stride, int64_t k, int64_t r0, int64_t r1,
                        const uint8_t* act, int64_t act_stride, int64_t n, float* y, int64_t ldy);

struct GemmKernel {
    ActFormat act;
    QuantizeActFn quantize = nullptr;  // null for float kernels
    GemmFn gemm = nullptr;             // null: no tiled kernel for this type (FP8)
};

// The kernel for weights of `type` at `level` (gemm null when there is none).
GemmKernel gemm_kernel(DType type, SimdLevel level);

// Compute ceilings for benchmarks: `iters` steps of independent FMA (float) or vpdpbusd /
// maddubs (int8) chains at the level's vector width; returns operations done (a
// multiply-add counts 2). Time it to get the per-thread peak.
double peak_burst(SimdLevel level, bool int8, int64_t iters);

// Scalar references: the same math in plain C++ (activation quantization bit-identical to
// every SIMD level; products accumulated in double).
namespace ref {
void quantize_act(const float* x, int64_t k, uint8_t* out, const ActFormat& format);
GemmKernel gemm_kernel(DType type);
}  // namespace ref

#if defined(PANGOLIN_HAVE_AVX2)
namespace avx2 {
GemmKernel gemm_kernel(DType type);
double peak_burst(bool int8, int64_t iters);
void silu_mul_row(const float* gate, const float* up, int64_t n, float* out);
}  // namespace avx2
#endif
#if defined(PANGOLIN_HAVE_AVX512)
namespace avx512 {
GemmKernel gemm_kernel(DType type);
double peak_burst(bool int8, int64_t iters);
void silu_mul_row(const float* gate, const float* up, int64_t n, float* out);
}  // namespace avx512
#endif

}  // namespace pangolin
