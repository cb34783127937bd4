// A view of a stored tensor: its type, shape and bytes (usually inside a memory map).
// Shapes are written outermost first, as in safetensors/numpy: a weight matrix applied as
// y = W x has shape [out_features, in_features], each row contiguous in memory. (GGUF lists
// dimensions innermost first; the reader reverses them.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace pangolin {

struct TensorView {
    std::string name;
    DType type = DType::F32;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;
    size_t nbytes = 0;
    size_t row_stride = 0;  // bytes between rows; 0: rows are contiguous (row_bytes())

    int64_t dim(int i) const { return shape.at(size_t(i < 0 ? int(shape.size()) + i : i)); }
    int rank() const { return int(shape.size()); }
    int64_t numel() const {
        int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
    // For a matrix-like tensor: the innermost dimension (row length) and the row count.
    int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
    int64_t rows() const { return cols() ? numel() / cols() : 0; }
    size_t row_bytes() const { return dtype_row_bytes(type, cols()); }
    size_t stride_bytes() const { return row_stride ? row_stride : row_bytes(); }
    const uint8_t* row(int64_t r) const { return data + size_t(r) * stride_bytes(); }

    // The i-th slice along the outermost dimension (e.g. one expert of a stacked tensor).
    TensorView slice(int64_t i) const;
    // Rows [r0, r0 + n) of a matrix-like tensor (a tensor-parallel shard of output features).
    TensorView row_range(int64_t r0, int64_t n) const;
    // Columns [c0, c0 + n) of every row (a shard of input features); c0 and n must be whole
    // blocks of the stored type. The view keeps the full row stride.
    TensorView column_range(int64_t c0, int64_t n) const;
    std::string shape_str() const;
};

std::string shape_to_string(const std::vector<int64_t>& shape);

}  // namespace pangolin
