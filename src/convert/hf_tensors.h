// The GGUF tensors of a Hugging Face checkpoint, as llama.cpp's converter
// (convert_hf_to_gguf.py) lays them out for each architecture Pangolin runs: GGUF names,
// Llama's q/k rows permuted for interleaved RoPE, experts stacked into [n_expert, rows, cols]
// tensors, DeepSeek's kv_b_proj split into per-head attn_k_b (W_ukᵀ) and attn_v_b, router
// biases as exp_probs_b.bias; and the layouts docs/gguf-pangu-*.md define for the Pangu MoE
// models llama.cpp lacks. FP8 weights are decoded with their block scales.
#pragma once

#include <vector>

#include "convert/tensor_writer.h"
#include "formats/model_config.h"
#include "formats/model_source.h"

namespace pangolin {

// Plans for every output tensor (read lazily from the memory-mapped safetensors; `source`
// must outlive them). Throws when a checkpoint tensor has no place in the layout.
std::vector<TensorPlan> plan_hf_tensors(const ModelSource& source, const ModelConfig& config);

}  // namespace pangolin
