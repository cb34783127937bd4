#include "kernels/cpu/gemm.h"

namespace pangolin {

GemmKernel gemm_kernel(DType type, SimdLevel level) {
#if defined(PANGOLIN_HAVE_AVX512)
    if (level == SimdLevel::Avx512) return avx512::gemm_kernel(type);
#endif
#if defined(PANGOLIN_HAVE_AVX2)
    if (level >= SimdLevel::Avx2) return avx2::gemm_kernel(type);
#endif
    (void)level;
    return ref::gemm_kernel(type);
}

double peak_burst(SimdLevel level, bool int8, int64_t iters) {
#if defined(PANGOLIN_HAVE_AVX512)
    if (level == SimdLevel::Avx512) return avx512::peak_burst(int8, iters);
#endif
#if defined(PANGOLIN_HAVE_AVX2)
    if (level >= SimdLevel::Avx2) return avx2::peak_burst(int8, iters);
#endif
    (void)level, (void)int8, (void)iters;
    return 0;
}

}  // namespace pangolin
