// Tiled kernels for AVX2 + FMA + F16C (see gemm_x86.inc). Compiled with -mavx2 -mfma -mf16c
// and only called when cpu_features() reports all three.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cpu/attention_kernel.h"
#include "kernels/cpu/gemm.h"

#define PG_F512 0
#define PG_RM_32 2
#define PG_RN_32 4
#define PG_RM_K 2
#define PG_RN_K 2
#define PG_RM_F 2
#define PG_RN_F 3

namespace pangolin::avx2 {

#include "kernels/cpu/gemm_x86.inc"
// the attention kernels use the vector types gemm_x86.inc defines
#include "kernels/cpu/attention_x86.inc"

GemmKernel gemm_kernel(DType type) {
    return make_kernel_256(type);
}

double peak_burst(bool int8, int64_t iters) {
    if (int8) {
        // maddubs + madd: 32 multiply-adds of int8
        const __m256i u = _mm256_set1_epi8(1), ones = _mm256_set1_epi16(1);
        return burst(
            iters, _mm256_set1_epi32(1),
            [&](__m256i a) {
                return _mm256_add_epi32(
                    a, _mm256_madd_epi16(
                           _mm256_maddubs_epi16(u, _mm256_castps_si256(_mm256_castsi256_ps(a))),
                           ones));
            },
            64.0);
    }
    const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-3f);
    return burst(
        iters, _mm256_set1_ps(1.0f), [&](__m256 a) { return _mm256_fmadd_ps(a, m, c); }, 16.0);
}

}  // namespace pangolin::avx2
