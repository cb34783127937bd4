// Model-agnostic element-wise and attention kernels on float32 activations.
// Activations are row-major [n_tokens, width] with an explicit row stride.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "formats/model_config.h"
#include "kernels/cpu/cpu_features.h"

namespace pangolin {

// Element-wise operations take an optional pool: with one, large inputs are split over its
// threads by rows (each row computed by one thread, so results are the same either way).

// out[t] = x[t] / sqrt(mean(x[t]²) + eps) * w   (w may be null: no gain). out may equal x.
void rms_norm(const float* x, int64_t x_stride, const float* w, int64_t n, int64_t n_tokens,
              double eps, float* out, int64_t out_stride, ThreadPool* pool);
void rms_norm(const float* x, int64_t x_stride, const float* w, int64_t n, int64_t n_tokens,
              double eps, float* out, int64_t out_stride);

// x += y over n values.
void add_inplace(float* x, const float* y, int64_t n, ThreadPool* pool = nullptr);
// out[i] = silu(gate[i]) * up[i] for each of n_tokens rows of width n.
void silu_mul(const float* gate, int64_t gate_stride, const float* up, int64_t up_stride, int64_t n,
              int64_t n_tokens, float* out, int64_t out_stride, ThreadPool* pool = nullptr);
// One row of silu_mul: the scalar reference and the SIMD kernel of a level.
using SiluMulRowFn = void (*)(const float* gate, const float* up, int64_t n, float* out);
void silu_mul_row_ref(const float* gate, const float* up, int64_t n, float* out);
SiluMulRowFn silu_mul_row_fn(SimdLevel level);
// In-place softmax over n values (max-subtracted; sum in double).
void softmax_inplace(float* x, int64_t n);
// x[t, i] += bias[i].
void add_bias(float* x, int64_t x_stride, const float* bias, int64_t n, int64_t n_tokens);

// Rotary position embedding. The table holds one angular frequency per rotated pair, with
// the model's frequency scaling (linear, llama3, YaRN, per-pair factors) already applied.
struct RopeTable {
    RopeLayout layout = RopeLayout::Neox;
    int64_t n_dims = 0;              // rotated dimensions per head (pairs = n_dims / 2)
    std::vector<double> freq;        // radians per position, per pair
    std::vector<double> extrap_mix;  // YaRN: share of the unscaled frequency per pair
    double mscale = 1.0;             // multiplies cos and sin (YaRN magnitude correction)
};
RopeTable make_rope_table(const RopeConfig& rope);

// Rotates the first n_dims values of each head of x: [n_tokens][n_heads][head_stride],
// token rows token_stride apart, with position pos[t].
void apply_rope(const RopeTable& table, float* x, int64_t n_tokens, int64_t token_stride,
                int64_t n_heads, int64_t head_stride, const int32_t* pos,
                ThreadPool* pool = nullptr);

// Key/value rows of one layer in a paged cache: slot s of the cache holds K at
// k + s * k_stride and V at v + s * v_stride. A sequence's position p lives in slot
// block_table[p / block_size] * block_size + p % block_size.
struct PagedKvView {
    const float* k = nullptr;
    const float* v = nullptr;
    int64_t k_stride = 0;
    int64_t v_stride = 0;
    int64_t block_size = 0;
};

// Causal multi-head attention with grouped KV heads. For token t, head h (KV head
// h / (n_head / n_head_kv)): out = softmax(scale · q·Kᵀ) · V over positions [0, n_visible[t])
// of the token's sequence, whose blocks are block_tables[t].
// q: [n_tokens][n_head][dk] (rows q_stride apart); out: [n_tokens][n_head][dv].
struct AttentionShape {
    int64_t n_head, n_head_kv, dk, dv;
    float scale;
};
void attention(const AttentionShape& shape, const float* q, int64_t q_stride, float* out,
               int64_t out_stride, int64_t n_tokens, const PagedKvView& kv,
               const int32_t* const* block_tables, const int32_t* n_visible, ThreadPool& pool);

}  // namespace pangolin
