// Tiled kernels for AVX-512 F/BW/VL + VNNI (see gemm_x86.inc): vpdpbusd for the 32-value
// block types, 512-bit float kernels and larger tiles (32 vector registers). Compiled with
// its own target flags and only called when cpu_features() reports them.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemm.h"

#define PG_VNNI 1
#define PG_F512 1
#define PG_RM_32 4
#define PG_RN_32 4
#define PG_RM_K 2
#define PG_RN_K 4
#define PG_RM_F 4
#define PG_RN_F 6

// GCC 12 reports the _mm512_undefined_ps() inside its own conversion intrinsics as
// uninitialized (a false positive in avx512fintrin.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace pangolin::avx512 {

#include "kernels/cpu/gemm_x86.inc"

GemmKernel gemm_kernel(DType type) { return make_kernel(type); }

}  // namespace pangolin::avx512

#pragma GCC diagnostic pop
