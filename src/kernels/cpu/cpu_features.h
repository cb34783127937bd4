// Which SIMD paths this CPU runs; read once from cpuid. PANGOLIN_SIMD=scalar forces the
// scalar references everywhere (for debugging and for tests of the dispatch itself).
#pragma once

namespace pangolin {

enum class SimdLevel { Scalar, Avx2 };

struct CpuFeatures {
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vnni = false;
    bool avxvnni = false;
};

const CpuFeatures& cpu_features();
// The best level both this CPU and the build support, unless PANGOLIN_SIMD lowers it.
SimdLevel simd_level();
const char* simd_level_name(SimdLevel level);

}  // namespace pangolin
