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

}  // namespace pangolin
