#include "core/tensor.h"

#include "core/error.h"

namespace pangolin {

std::string shape_to_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string TensorView::shape_str() const { return shape_to_string(shape); }

TensorView TensorView::slice(int64_t i) const {
    require(rank() >= 2 && i >= 0 && i < shape[0], "tensor ", name, " ", shape_str(),
            " has no slice ", i);
    TensorView v;
    v.name = str_cat(name, "[", i, "]");
    v.type = type;
    v.shape.assign(shape.begin() + 1, shape.end());
    v.nbytes = nbytes / size_t(shape[0]);
    v.data = data + size_t(i) * v.nbytes;
    return v;
}

}  // namespace pangolin
