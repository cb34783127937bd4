// `pangolin convert` (Hugging Face folder → GGUF) and `pangolin quantize` (GGUF → GGUF).
// Both stream: tensors are decoded and written a band of rows at a time from memory-mapped
// inputs, into "<out>.partial", renamed into place only when complete.
#pragma once

#include <string>

#include "convert/file_type.h"

namespace pangolin {

struct ConvertOptions {
    FileTypeSpec file_type;  // F32 unless given
    int threads = 1;
    std::string vocab_from;  // a GGUF whose tokenizer.* keys replace the folder's tokenizer
    std::string name;        // general.name; the folder's name when empty
};

// Converts the checkpoint in `hf_dir` to `out_path` with llama.cpp's GGUF layout and keys.
void convert_hf_to_gguf(const std::string& hf_dir, const std::string& out_path,
                        const ConvertOptions& options);

struct QuantizeOptions {
    FileTypeSpec file_type;
    int threads = 1;
};

// Requantizes `in_path` into `out_path` with the tensor types llama-quantize chooses.
void quantize_gguf(const std::string& in_path, const std::string& out_path,
                   const QuantizeOptions& options);

}  // namespace pangolin
