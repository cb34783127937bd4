#include "kernels/cpu/matmul.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/fp.h"
#include "core/quant_ref.h"

namespace pangolin {

float Weight::block_scale(int64_t r, int64_t c) const {
    const int64_t scale_cols = scale.cols();
    const int64_t i = (r / scale_block) * scale_cols + c / scale_block;
    if (scale.type == DType::E8M0) return e8m0_to_f32(scale.data[i]);
    return reinterpret_cast<const float*>(scale.data)[i];
}

float dot_f32_ref(const float* a, const float* b, int64_t n) {
    // Pairwise-free plain loop; double accumulation keeps the reference close to exact so
    // parity tests measure the SIMD path's error, not the reference's.
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += double(a[i]) * double(b[i]);
    return float(s);
}

void dequant_row_ref(const Weight& w, int64_t r, float* out) {
    const int64_t n = w.cols();
    dequantize_row_ref(w.w.type, w.w.row(r), out, n);
    if (w.scale.data) {
        for (int64_t c = 0; c < n; ++c) out[c] *= w.block_scale(r, c);
    }
}

DequantRowFn dequant_row_fn(DType type, bool fp8_block_scaled, SimdLevel level) {
#if defined(PANGOLIN_HAVE_AVX2)
    if (level >= SimdLevel::Avx2)
        if (auto fn = avx2::dequant_row_fn(type, fp8_block_scaled)) return fn;
#endif
    (void)type;
    (void)fp8_block_scaled;
    (void)level;
    return &dequant_row_ref;
}

DotF32Fn dot_f32_fn(SimdLevel level) {
#if defined(PANGOLIN_HAVE_AVX2)
    if (level >= SimdLevel::Avx2) return &avx2::dot_f32;
#endif
    (void)level;
    return &dot_f32_ref;
}

Weight make_weight(const TensorView& w, SimdLevel level) {
    require(w.rank() >= 1, "tensor ", w.name, " has no dimensions");
    switch (w.type) {
        case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: case DType::Q4_0:
        case DType::Q5_0: case DType::Q5_K: case DType::Q4_K: case DType::Q6_K: case DType::MXFP4: break;
        case DType::F8_E4M3:
            fail("tensor ", w.name, " is FP8 (F8_E4M3) but has no block scale (weight_scale_inv)");
        default: fail("tensor ", w.name, " has type ", dtype_name(w.type), ", which cannot be used as a weight matrix");
    }
    Weight out;
    out.w = w;
    out.dequant = dequant_row_fn(w.type, false, level);
    out.dot = dot_f32_fn(level);
    out.kernel = gemm_kernel(w.type, level);
    return out;
}

Weight make_weight_fp8(const TensorView& w, const TensorView& scale, int64_t block, SimdLevel level) {
    require(w.type == DType::F8_E4M3, "tensor ", w.name, " has a block scale but is ",
            dtype_name(w.type), ", not F8_E4M3");
    require(scale.type == DType::F32 || scale.type == DType::E8M0, "scale tensor ", scale.name,
            " must be F32 or F8_E8M0, found ", dtype_name(scale.type));
    require(block > 0, "FP8 block size must be positive");
    const int64_t want_r = (w.rows() + block - 1) / block, want_c = (w.cols() + block - 1) / block;
    require(scale.rank() == 2 && scale.dim(0) == want_r && scale.dim(1) == want_c, "scale tensor ",
            scale.name, " has shape ", scale.shape_str(), " but weight ", w.name, " ",
            w.shape_str(), " with ", block, "×", block, " blocks needs [", want_r, ", ", want_c, "]");
    Weight out;
    out.w = w;
    out.scale = scale;
    out.scale_block = block;
    out.dequant = dequant_row_fn(w.type, true, level);
    out.dot = dot_f32_fn(level);
    return out;
}

namespace {

// Quantized activation rows, reused across calls (one per calling thread).
struct ActBuffer {
    struct Free {
        void operator()(uint8_t* p) const { std::free(p); }
    };
    std::unique_ptr<uint8_t, Free> data;
    size_t size = 0;
    uint8_t* get(size_t n) {
        if (n > size) {
            size = std::max(n, size * 2);
            data.reset(static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) / 64 * 64)));
            if (!data) throw std::bad_alloc();
        }
        return data.get();
    }
};

void matmul_rows_f32(const Weight& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
                     int64_t ldy, int64_t row_begin, int64_t row_end) {
    const int64_t cols = w.cols();
    thread_local std::vector<float> row_buf;
    if (int64_t(row_buf.size()) < cols) row_buf.resize(size_t(cols));
    for (int64_t r = row_begin; r < row_end; ++r) {
        const float* wr = reinterpret_cast<const float*>(w.w.row(r));
        if (w.w.type != DType::F32) {
            w.dequant(w, r, row_buf.data());
            wr = row_buf.data();
        }
        for (int64_t t = 0; t < n_tokens; ++t) y[t * ldy + r] = w.dot(wr, x + t * x_stride, cols);
    }
}

// The activation rows a weight's kernel reads: x itself (float kernels) or x quantized into
// `buf` (split over the pool's threads for larger batches).
const uint8_t* prepare_act(const Weight& w, const float* x, int64_t x_stride, int64_t n, ActBuffer& buf,
                           int64_t* act_stride, ThreadPool* pool) {
    const GemmKernel& k = w.kernel;
    const int64_t cols = w.cols();
    if (!k.quantize) {
        *act_stride = x_stride * 4;
        return reinterpret_cast<const uint8_t*>(x);
    }
    const int64_t stride = k.act.row_bytes(cols);
    uint8_t* act = buf.get(size_t(n * stride));
    auto quantize = [&](int64_t b, int64_t e, int) {
        for (int64_t t = b; t < e; ++t) k.quantize(x + t * x_stride, cols, act + t * stride);
    };
    if (pool && n >= 8) pool->parallel_for(n, quantize);
    else quantize(0, n, 0);
    *act_stride = stride;
    return act;
}

// Chunks of 16 rows keep each thread's writes to y on separate cache lines.
constexpr int64_t k_row_grain = 16;

}  // namespace

void matmul_rows(const Weight& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
                 int64_t ldy, int64_t row_begin, int64_t row_end) {
    if (!w.kernel.gemm) return matmul_rows_f32(w, x, x_stride, n_tokens, y, ldy, row_begin, row_end);
    thread_local ActBuffer buf;
    int64_t stride = 0;
    const uint8_t* act = prepare_act(w, x, x_stride, n_tokens, buf, &stride, nullptr);
    w.kernel.gemm(w.w.data, int64_t(w.w.stride_bytes()), w.cols(), row_begin, row_end, act, stride, n_tokens, y, ldy);
}

void matvec_rows(const Weight& w, int64_t row0, int64_t n_rows, const float* x, float* y) {
    const int64_t cols = w.cols();
    thread_local std::vector<float> row_buf;
    if (int64_t(row_buf.size()) < cols) row_buf.resize(size_t(cols));
    for (int64_t r = 0; r < n_rows; ++r) {
        const float* wr = reinterpret_cast<const float*>(w.w.row(row0 + r));
        if (w.w.type != DType::F32) {
            w.dequant(w, row0 + r, row_buf.data());
            wr = row_buf.data();
        }
        y[r] = w.dot(wr, x, cols);
    }
}

void matvec_rows_t(const Weight& w, int64_t row0, int64_t n_rows, const float* x, float* y) {
    const int64_t cols = w.cols();
    thread_local std::vector<float> row_buf;
    if (int64_t(row_buf.size()) < cols) row_buf.resize(size_t(cols));
    std::fill(y, y + cols, 0.0f);
    for (int64_t r = 0; r < n_rows; ++r) {
        w.dequant(w, row0 + r, row_buf.data());
        const float xr = x[r];
        for (int64_t c = 0; c < cols; ++c) y[c] += xr * row_buf[size_t(c)];
    }
}

void matmul(const Weight& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
            int64_t ldy, ThreadPool& pool) {
    const MatmulOut out{&w, y, ldy};
    matmul_fused(&out, 1, x, x_stride, n_tokens, pool);
}

void matmul_fused(const MatmulOut* outs, int n_outs, const float* x, int64_t x_stride, int64_t n_tokens,
                  ThreadPool& pool) {
    if (n_outs <= 0 || n_tokens <= 0) return;
    // activation rows per output: quantized once per distinct format
    thread_local ActBuffer bufs[4];
    struct Part {
        const Weight* w;
        float* y;
        int64_t ldy, rows, act_stride;
        const uint8_t* act;
    };
    Part parts[8];
    require(n_outs <= 8, "internal: matmul_fused takes at most 8 products");
    int n_formats = 0;
    int64_t total_rows = 0;
    for (int i = 0; i < n_outs; ++i) {
        const Weight& w = *outs[i].w;
        Part& p = parts[i];
        p = Part{&w, outs[i].y, outs[i].ldy, w.rows(), 0, nullptr};
        total_rows += (p.rows + k_row_grain - 1) / k_row_grain * k_row_grain;
        if (!w.kernel.gemm) continue;
        bool reuse = false;
        for (int j = 0; j < i; ++j) {
            if (parts[j].w->kernel.gemm && parts[j].w->kernel.quantize == w.kernel.quantize &&
                parts[j].w->cols() == w.cols()) {
                p.act = parts[j].act;
                p.act_stride = parts[j].act_stride;
                reuse = true;
                break;
            }
        }
        if (reuse) continue;
        require(n_formats < 4, "internal: matmul_fused takes at most 4 activation formats");
        p.act = prepare_act(w, x, x_stride, n_tokens, bufs[n_formats], &p.act_stride, &pool);
        ++n_formats;
    }
    // rows of all products, in grains of 16 per product, split evenly over the threads
    pool.parallel_for(total_rows, [&](int64_t b, int64_t e, int) {
        int64_t base = 0;
        for (int i = 0; i < n_outs && base < e; ++i) {
            const Part& p = parts[i];
            const int64_t span = (p.rows + k_row_grain - 1) / k_row_grain * k_row_grain;
            const int64_t r0 = std::max<int64_t>(b - base, 0), r1 = std::min<int64_t>(e - base, p.rows);
            base += span;
            if (r0 >= r1) continue;
            const Weight& w = *p.w;
            if (w.kernel.gemm)
                w.kernel.gemm(w.w.data, int64_t(w.w.stride_bytes()), w.cols(), r0, r1, p.act, p.act_stride,
                              n_tokens, p.y, p.ldy);
            else
                matmul_rows_f32(w, x, x_stride, n_tokens, p.y, p.ldy, r0, r1);
        }
    }, k_row_grain);
}

}  // namespace pangolin
