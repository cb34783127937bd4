#include "kernels/cpu/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace pangolin {

const CpuFeatures& cpu_features() {
    static const CpuFeatures features = [] {
        CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        f.avx2 = __builtin_cpu_supports("avx2");
        f.fma = __builtin_cpu_supports("fma");
        f.avx512f = __builtin_cpu_supports("avx512f");
        f.avx512bw = __builtin_cpu_supports("avx512bw");
        f.avx512vnni = __builtin_cpu_supports("avx512vnni");
        unsigned eax, ebx, ecx, edx;
        __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
        f.f16c = (ecx >> 29) & 1;
        __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(7), "c"(1));
        f.avxvnni = (eax >> 4) & 1;
#endif
        return f;
    }();
    return features;
}

SimdLevel simd_level() {
    static const SimdLevel level = [] {
        const char* env = std::getenv("PANGOLIN_SIMD");
        if (env && std::strcmp(env, "scalar") == 0) return SimdLevel::Scalar;
#if defined(PANGOLIN_HAVE_AVX2)
        const auto& f = cpu_features();
        if (f.avx2 && f.fma && f.f16c) return SimdLevel::Avx2;
#endif
        return SimdLevel::Scalar;
    }();
    return level;
}

const char* simd_level_name(SimdLevel level) {
    switch (level) {
        case SimdLevel::Avx2: return "AVX2+FMA+F16C";
        default: return "scalar";
    }
}

}  // namespace pangolin
