// The part `pangolin convert` and `pangolin quantize` share: every output tensor is described
// by a plan that produces its values a band of rows at a time; the writer chooses each
// tensor's type, declares the tensors and streams them into a GgufWriter, decoding and
// quantizing one band at a time so that no whole model (or whole tensor) is held in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "convert/file_type.h"
#include "core/tensor.h"
#include "formats/gguf_writer.h"

namespace pangolin {

struct TensorPlan {
    TensorInfo info;  // output name and shape, the stored type of the input, FP8 origin
    // Writes rows [r0, r1) of the tensor viewed as a [numel / cols, cols] matrix into out as
    // float32. Called with increasing, non-overlapping ranges.
    std::function<void(int64_t r0, int64_t r1, float* out)> read_rows;
    // The input's bytes when they are exactly this tensor in info.type (a same-type copy then
    // skips decoding, as llama-quantize copies tensors it does not requantize); may be null.
    const TensorView* raw = nullptr;

    int64_t cols() const { return info.shape.back(); }
    int64_t rows() const;
};

struct OutputOptions {
    FileTypeSpec file_type;
    int threads = 1;
    int64_t fp8_block = 128;
    bool llama_order = false;  // write tensors in llama-quantize's order instead of plan order
};

// Chooses the type of every planned tensor, declares them on `writer` (an FP8 tensor as an
// I8 tensor of codes followed by its ".block_scale" tensor, and sets k_gguf_fp8_block_key), writes
// the header (all metadata must be set before) and all tensor data, then finishes the file.
// Reports fallbacks and a per-type summary on stderr.
void write_planned_tensors(GgufWriter& writer, const std::vector<TensorPlan>& plans,
                           const QuantModelInfo& model, const OutputOptions& options);

}  // namespace pangolin
