// Which SIMD paths this CPU runs; read once from cpuid. PANGOLIN_SIMD=scalar forces the
// scalar references everywhere (for debugging and for tests of the dispatch itself).
#pragma once

namespace pangolin {

// Ordered: a higher level can run every kernel of a lower one. Avx512 means AVX-512
// F/BW/VL with VNNI (plus AVX2, FMA and F16C).
enum class SimdLevel { Scalar, Avx2, Avx512 };

struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512vnni = false;
    bool avxvnni = false;
};

const CpuFeatures& cpu_features();
// The best level both this CPU and the build support, unless PANGOLIN_SIMD lowers it
// (PANGOLIN_SIMD=scalar or avx2).
SimdLevel simd_level();
// Whether this CPU and build can run kernels of `level`.
bool simd_level_supported(SimdLevel level);
const char* simd_level_name(SimdLevel level);

}  // namespace pangolin
