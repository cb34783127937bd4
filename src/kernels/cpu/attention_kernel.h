// The attention kernel behind attention() (kernels/cpu/ops.h): a job is a set of query rows
// that share one key/value head and one sequence, over that sequence's first n_pos cached
// positions. Per query row: scores s_p = scale · Σ_d q[d]·k_p[d] (summed in d order),
// softmax over p < n_vis (row max subtracted, sum in p order), out = Σ_p prob_p · v_p (in p
// order). The SIMD kernels put query rows in vector lanes (queries transposed once per
// job, keys broadcast), so every operation a row's values see is the same whatever else is
// in the job: a token's result does not depend on the batch.
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace pangolin {

struct AttnJob {
    int64_t n_q = 0;                  // query rows
    const float* const* q = nullptr;  // [n_q] rows of dk values
    float* const* out = nullptr;      // [n_q] rows of dv values
    const int32_t* n_vis = nullptr;   // [n_q] positions each row attends to (≤ n_pos);
                                      // rows with equal n_vis that should share loads
                                      // are adjacent (a token's heads)
    int64_t n_pos = 0;
    const float* const* k = nullptr;  // [n_pos] key rows (dk)
    const float* const* v = nullptr;  // [n_pos] value rows (dv)
    int64_t dk = 0, dv = 0;
    float scale = 1.0f;
};

using AttnFn = void (*)(const AttnJob& job);
AttnFn attention_fn(SimdLevel level);

namespace ref {
void attention_job(const AttnJob& job);
}
#if defined(PANGOLIN_HAVE_AVX2)
namespace avx2 {
void attention_job(const AttnJob& job);
}
#endif
#if defined(PANGOLIN_HAVE_AVX512)
namespace avx512 {
void attention_job(const AttnJob& job);
}
#endif

}  // namespace pangolin
