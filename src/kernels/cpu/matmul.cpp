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
        case DType::F32:
        case DType::F16:
        case DType::BF16:
        case DType::Q8_0:
        case DType::Q4_0:
        case DType::Q5_0:
        case DType::Q5_K:
        case DType::Q4_K:
        case DType::Q6_K:
        case DType::MXFP4:
            break;
        case DType::F8_E4M3:
            fail("tensor ", w.name, " is FP8 (F8_E4M3) but has no block scale (weight_scale_inv)");
        default:
            fail("tensor ", w.name, " has type ", dtype_name(w.type),
                 ", which cannot be used as a weight matrix");
    }
    Weight out;
    out.w = w;
    out.dequant = dequant_row_fn(w.type, false, level);
    out.dot = dot_f32_fn(level);
    out.kernel = gemm_kernel(w.type, level);
    return out;
}

Weight make_weight_fp8(const TensorView& w, const TensorView& scale, int64_t block,
                       SimdLevel level) {
    require(w.type == DType::F8_E4M3, "tensor ", w.name, " has a block scale but is ",
            dtype_name(w.type), ", not F8_E4M3");
    require(scale.type == DType::F32 || scale.type == DType::E8M0, "scale tensor ", scale.name,
            " must be F32 or F8_E8M0, found ", dtype_name(scale.type));
    require(block > 0, "FP8 block size must be positive");
    const int64_t want_r = (w.rows() + block - 1) / block, want_c = (w.cols() + block - 1) / block;
    require(scale.rank() == 2 && scale.dim(0) == want_r && scale.dim(1) == want_c, "scale tensor ",
            scale.name, " has shape ", scale.shape_str(), " but weight ", w.name, " ",
            w.shape_str(), " with ", block, "×", block, " blocks needs [", want_r, ", ", want_c,
            "]");
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
const uint8_t* prepare_act(const Weight& w, const float* x, int64_t x_stride, int64_t n,
                           ActBuffer& buf, int64_t* act_stride, ThreadPool* pool) {
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
    if (pool && n >= 8)
        pool->parallel_for(n, quantize);
    else
        quantize(0, n, 0);
    *act_stride = stride;
    return act;
}

// Chunks of 16 rows keep each thread's writes to y on separate cache lines.
constexpr int64_t k_row_grain = 16;

std::vector<MatmulJob>& fused_jobs() {
    thread_local std::vector<MatmulJob> jobs;
    return jobs;
}

}  // namespace

void matmul_rows(const Weight& w, const float* x, int64_t x_stride, int64_t n_tokens, float* y,
                 int64_t ldy, int64_t row_begin, int64_t row_end) {
    if (!w.kernel.gemm)
        return matmul_rows_f32(w, x, x_stride, n_tokens, y, ldy, row_begin, row_end);
    thread_local ActBuffer buf;
    int64_t stride = 0;
    const uint8_t* act = prepare_act(w, x, x_stride, n_tokens, buf, &stride, nullptr);
    w.kernel.gemm(w.w.data, int64_t(w.w.stride_bytes()), w.cols(), row_begin, row_end, act, stride,
                  n_tokens, y, ldy);
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

void matmul_fused(const MatmulOut* outs, int n_outs, const float* x, int64_t x_stride,
                  int64_t n_tokens, ThreadPool& pool) {
    std::vector<MatmulJob>& jobs = fused_jobs();
    jobs.clear();
    for (int i = 0; i < n_outs; ++i)
        jobs.push_back({outs[i].w, x, x_stride, n_tokens, outs[i].y, outs[i].ldy});
    matmul_jobs(jobs.data(), int(jobs.size()), pool);
}

void matmul_jobs(const MatmulJob* jobs, int n_jobs, ThreadPool& pool) {
    if (n_jobs <= 0) return;
    // activation rows per job: quantized once per distinct (input, format, row length)
    thread_local std::vector<ActBuffer> bufs;
    struct Part {
        const uint8_t* act;
        int64_t act_stride, rows, begin;  // begin: first row in the concatenated row space
    };
    thread_local std::vector<Part> parts_tl;
    // a named reference: the workers below must see this thread's parts, not their own
    std::vector<Part>& parts = parts_tl;
    parts.assign(static_cast<size_t>(n_jobs), Part{nullptr, 0, 0, 0});
    if (bufs.size() < size_t(n_jobs)) bufs.resize(size_t(n_jobs));
    int64_t total_rows = 0;
    for (int i = 0; i < n_jobs; ++i) {
        const MatmulJob& job = jobs[i];
        const Weight& w = *job.w;
        Part& p = parts[size_t(i)];
        p.rows = job.n_tokens > 0 ? w.rows() : 0;
        p.begin = total_rows;
        total_rows += (p.rows + k_row_grain - 1) / k_row_grain * k_row_grain;
        if (!w.kernel.gemm || p.rows == 0) continue;
        for (int j = 0; j < i && !p.act; ++j) {
            const MatmulJob& o = jobs[j];
            if (o.x == job.x && o.x_stride == job.x_stride && o.n_tokens == job.n_tokens &&
                o.w->kernel.gemm && o.w->kernel.quantize == w.kernel.quantize &&
                o.w->cols() == w.cols()) {
                p.act = parts[size_t(j)].act;
                p.act_stride = parts[size_t(j)].act_stride;
            }
        }
        if (!p.act)
            p.act = prepare_act(w, job.x, job.x_stride, job.n_tokens, bufs[size_t(i)],
                                &p.act_stride, &pool);
    }
    // rows of all products, in grains of 16 per product, split over the threads
    pool.parallel_for(
        total_rows,
        [&](int64_t b, int64_t e, int) {
            for (int i = 0; i < n_jobs; ++i) {
                const Part& p = parts[size_t(i)];
                const int64_t r0 = std::max<int64_t>(b - p.begin, 0),
                              r1 = std::min<int64_t>(e - p.begin, p.rows);
                if (r0 >= r1) continue;
                const MatmulJob& job = jobs[i];
                const Weight& w = *job.w;
                if (w.kernel.gemm)
                    w.kernel.gemm(w.w.data, int64_t(w.w.stride_bytes()), w.cols(), r0, r1, p.act,
                                  p.act_stride, job.n_tokens, job.y, job.ldy);
                else
                    matmul_rows_f32(w, job.x, job.x_stride, job.n_tokens, job.y, job.ldy, r0, r1);
            }
        },
        k_row_grain);
}

}  // namespace pangolin
