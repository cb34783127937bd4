#include "kernels/cpu/cpu_features.h"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

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
        f.avx512vl = __builtin_cpu_supports("avx512vl");
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

bool simd_level_supported(SimdLevel level) {
    const auto& f = cpu_features();
    switch (level) {
        case SimdLevel::Scalar:
            return true;
        case SimdLevel::Avx2:
#if defined(PANGOLIN_HAVE_AVX2)
            return f.avx2 && f.fma && f.f16c;
#else
            return false;
#endif
        case SimdLevel::Avx512:
#if defined(PANGOLIN_HAVE_AVX512)
            return simd_level_supported(SimdLevel::Avx2) && f.avx512f && f.avx512bw && f.avx512vl &&
                   f.avx512vnni;
#else
            return false;
#endif
    }
    return false;
}

SimdLevel simd_level() {
    static const SimdLevel level = [] {
        SimdLevel cap = SimdLevel::Avx512;
        if (const char* env = std::getenv("PANGOLIN_SIMD")) {
            if (std::strcmp(env, "scalar") == 0)
                cap = SimdLevel::Scalar;
            else if (std::strcmp(env, "avx2") == 0)
                cap = SimdLevel::Avx2;
        }
        for (SimdLevel l : {SimdLevel::Avx512, SimdLevel::Avx2})
            if (l <= cap && simd_level_supported(l)) return l;
        return SimdLevel::Scalar;
    }();
    return level;
}

const char* simd_level_name(SimdLevel level) {
    switch (level) {
        case SimdLevel::Avx2:
            return "AVX2+FMA+F16C";
        case SimdLevel::Avx512:
            return "AVX-512+VNNI";
        default:
            return "scalar";
    }
}

}  // namespace pangolin
