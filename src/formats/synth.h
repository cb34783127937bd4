// Random-weight GGUF files with the exact shapes, tensor names and metadata keys of real
// models (as llama.cpp's converter writes them), for benchmarks that need real sizes but
// no real weights. Files load in Pangolin and, for architectures llama.cpp knows, in
// llama.cpp too (a minimal but valid tokenizer is included).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace pangolin {

struct SynthShape {
    std::string name;       // "qwen2.5-0.5b"
    std::string arch;       // GGUF general.architecture
    std::string tokenizer;  // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    std::string pre;        // tokenizer.ggml.pre
    int64_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0;
    int64_t n_ff = 0, n_ctx = 4096;
    double rope_theta = 10000.0, norm_eps = 1e-6;
    bool tied = false, qkv_bias = false, o_bias = false, qk_norm = false;
    // mixture of experts (n_expert 0: dense)
    int64_t n_expert = 0, n_expert_used = 0, n_ff_expert = 0, n_shared = 0, n_ff_shared = 0;
    int64_t n_dense_lead = 0, n_expert_group = 0, n_group_used = 0;
    int gating = 0;  // deepseek2.expert_gating_func (1 softmax, 2 sigmoid); 0: not written
    bool router_scale = false;  // Pangu Pro MoE: per-expert output scale
    // multi-head latent attention (kv_lora 0: none)
    int64_t q_lora = 0, kv_lora = 0, qk_nope = 0, qk_rope = 0, v_head = 0;
    // YaRN (factor 0: none)
    double yarn_factor = 0, yarn_log_mul = 0;
    int64_t yarn_orig_ctx = 0;
    int64_t bos = -1, eos = -1;  // special token ids (-1: the last ids of the vocabulary)
};

// The known shapes (see `pangolin synth --list`).
const std::vector<SynthShape>& synth_shapes();
const SynthShape* find_synth_shape(const std::string& name);

struct SynthOptions {
    DType type = DType::F16;  // matrices; norms and biases are F32. Quantized types the
                              // writer cannot produce are refused (use llama-quantize).
    uint64_t seed = 42;
    float stddev = 0.02f;  // weights ~ N(0, stddev); norms = 1; biases ~ N(0, stddev)
    int64_t n_layer = 0;   // 0: the shape's layer count
    int n_threads = 0;     // 0: all cores
};

// Writes the model to `path` (via "<path>.partial", renamed when complete); progress on stderr.
void write_synth_gguf(const SynthShape& shape, const SynthOptions& options,
                      const std::string& path);

// Parameter count of the shape (with options.n_layer applied).
int64_t synth_param_count(const SynthShape& shape, int64_t n_layer);

}  // namespace pangolin
