#include "core/tensor.h"

#include "core/error.h"

namespace pangolin {

std::string shape_to_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string TensorView::shape_str() const {
    return shape_to_string(shape);
}

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

TensorView TensorView::row_range(int64_t r0, int64_t n) const {
    require(r0 >= 0 && n > 0 && r0 + n <= rows(), "tensor ", name, " ", shape_str(),
            " has no rows [", r0, ", ", r0 + n, ")");
    TensorView v = *this;
    v.shape = {n, cols()};
    v.data = row(r0);
    v.nbytes = size_t(n) * (row_stride ? row_stride : row_bytes());
    return v;
}

TensorView TensorView::column_range(int64_t c0, int64_t n) const {
    const int64_t block = dtype_block_elems(type);
    require(c0 >= 0 && n > 0 && c0 + n <= cols(), "tensor ", name, " ", shape_str(),
            " has no columns [", c0, ", ", c0 + n, ")");
    require(c0 % block == 0 && n % block == 0, "tensor ", name, " (", dtype_name(type),
            ") cannot be split at column ", c0, ": shards must be whole blocks of ", block,
            " values");
    TensorView v = *this;
    v.row_stride = row_stride ? row_stride : row_bytes();
    v.shape = {rows(), n};
    v.data = data + size_t(c0 / block) * size_t(dtype_block_bytes(type));
    v.nbytes = size_t(rows() - 1) * v.row_stride + dtype_row_bytes(type, n);
    return v;
}

}  // namespace pangolin
