// Scalar reference of the attention kernel (kernels/cpu/attention_kernel.h).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/attention_kernel.h"

namespace pangolin {

namespace ref {

void attention_job(const AttnJob& j) {
    std::vector<float> s(static_cast<size_t>(j.n_pos));
    for (int64_t r = 0; r < j.n_q; ++r) {
        const int64_t n = j.n_vis[r];
        float mx = -INFINITY;
        for (int64_t p = 0; p < n; ++p) {
            float d = 0;
            for (int64_t i = 0; i < j.dk; ++i) d += j.q[r][i] * j.k[p][i];
            s[size_t(p)] = d * j.scale;
            mx = std::max(mx, s[size_t(p)]);
        }
        float sum = 0;
        for (int64_t p = 0; p < n; ++p) sum += (s[size_t(p)] = std::exp(s[size_t(p)] - mx));
        const float inv = 1.0f / sum;
        float* o = j.out[r];
        std::fill(o, o + j.dv, 0.0f);
        for (int64_t p = 0; p < n; ++p) {
            const float w = s[size_t(p)] * inv;
            for (int64_t i = 0; i < j.dv; ++i) o[i] += w * j.v[p][i];
        }
    }
}

}  // namespace ref

AttnFn attention_fn(SimdLevel level) {
#if defined(PANGOLIN_HAVE_AVX512)
    if (level == SimdLevel::Avx512) return &avx512::attention_job;
#endif
#if defined(PANGOLIN_HAVE_AVX2)
    if (level >= SimdLevel::Avx2) return &avx2::attention_job;
#endif
    (void)level;
    return &ref::attention_job;
}

}  // namespace pangolin
