// Comparisons between GGUF files for the converter and quantizer tests.
#pragma once

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/quant_ref.h"
#include "formats/gguf.h"

namespace pangolin::test {

// Same type and same value (arrays element by element).
inline bool same_value(const GgufValue& a, const GgufValue& b) {
    if (a.type != b.type) return false;
    if (a.is_integer()) return a.i == b.i && a.u == b.u;
    if (a.is_float()) return a.f == b.f;
    if (a.type == GgufType::Bool) return a.b == b.b;
    if (a.type == GgufType::String) return a.s == b.s;
    if (a.elem_type != b.elem_type || a.count != b.count) return false;
    if (a.elem_type == GgufType::String) return a.strings == b.strings;
    if (a.elem_type == GgufType::Array) {
        for (size_t i = 0; i < a.items.size(); ++i)
            if (!same_value(a.items[i], b.items[i])) return false;
        return true;
    }
    return std::memcmp(a.raw, b.raw, size_t(a.count) * gguf_scalar_size(a.elem_type)) == 0;
}

inline std::vector<std::string> metadata_keys(const GgufFile& f) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : f.metadata()) keys.push_back(k);
    return keys;
}

inline std::vector<float> dequantized(const TensorView& t) {
    std::vector<float> out(static_cast<size_t>(t.numel()));
    for (int64_t r = 0; r < t.rows(); ++r)
        dequantize_row_ref(t.type, t.row(r), out.data() + r * t.cols(), t.cols());
    return out;
}

// ‖approx − exact‖₂ / ‖exact‖₂ over a whole tensor.
inline double tensor_rel_l2(const std::vector<float>& approx, const std::vector<float>& exact) {
    double num = 0, den = 0;
    for (size_t i = 0; i < exact.size(); ++i) {
        const double d = double(approx[i]) - double(exact[i]);
        num += d * d;
        den += double(exact[i]) * double(exact[i]);
    }
    return std::sqrt(num / den);
}

}  // namespace pangolin::test
