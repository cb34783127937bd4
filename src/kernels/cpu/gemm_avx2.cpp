// Tiled kernels for AVX2 + FMA + F16C (see gemm_x86.inc). Compiled with -mavx2 -mfma -mf16c
// and only called when cpu_features() reports all three.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm.h"

#define PG_F512 0
#define PG_RM_32 2
#define PG_RN_32 4
#define PG_RM_K 2
#define PG_RN_K 2
#define PG_RM_F 4
#define PG_RN_F 2

namespace pangolin::avx2 {

#include "kernels/cpu/gemm_x86.inc"

GemmKernel gemm_kernel(DType type) { return make_kernel_256(type); }

}  // namespace pangolin::avx2
