// Looks up an architecture's tensors by their canonical GGUF names ("blk.3.attn_q.weight")
// in either kind of source, translating to Hugging Face names ("model.layers.3.self_attn.
// q_proj.weight") for HF folders, and checks each shape against the configuration.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/model_source.h"
#include "kernels/cpu/matmul.h"
#include "model/model.h"

namespace pangolin {

// Which shard of the model this process loads (see ParallelMode in model/model.h).
struct Sharding {
    ParallelMode mode = ParallelMode::None;
    int rank = 0, size = 1;
    bool expert() const { return mode == ParallelMode::Expert && size > 1; }
    bool tensor() const { return mode == ParallelMode::Tensor && size > 1; }
};
// Layer-relative stems an architecture stores under other Hugging Face names than the
// standard table (e.g. openPangu-Ultra-MoE's sandwich norms); empty for most.
std::map<std::string, std::string> hf_stem_overrides(const std::string& arch);

class TensorLoader {
  public:
    // hf_overrides maps layer-relative canonical stems to HF stems, e.g.
    // {"attn_q_a", "self_attn.q_a_proj"}, extending or replacing the standard table.
    TensorLoader(const ModelSource& source, SimdLevel level,
                 std::map<std::string, std::string> hf_overrides = {}, Sharding sharding = {});

    const Sharding& sharding() const { return sharding_; }

    const ModelSource& source() const { return source_; }
    std::string stored_name(const std::string& canonical) const;
    const TensorView* find(const std::string& canonical) const;
    bool has(const std::string& canonical) const { return find(canonical) != nullptr; }

    // A required weight matrix of shape [rows, cols] (FP8 weights come with their scales).
    Weight matrix(const std::string& canonical, int64_t rows, int64_t cols) const;
    std::optional<Weight> optional_matrix(const std::string& canonical, int64_t rows,
                                          int64_t cols) const;
    // A tensor of any rank with the given shape, as stored.
    TensorView tensor(const std::string& canonical, const std::vector<int64_t>& shape) const;
    // A small 1-D tensor (norm gain, bias) converted to float32; empty when optional and absent.
    std::vector<float> vector(const std::string& canonical, int64_t n) const;
    std::vector<float> optional_vector(const std::string& canonical, int64_t n) const;

    Weight wrap(const TensorView& t) const;  // kernels for an already found tensor

    // The n_expert matrices [rows, cols] of one expert projection: slices of the stacked
    // GGUF tensor `gguf_stacked` ([n_expert, rows, cols]) or, in HF folders, the separate
    // tensors named by `hf_pattern` with "{e}" replaced by the expert index. Experts for
    // which `wanted(e)` is false are left empty (expert parallelism loads a shard only).
    std::vector<Weight> experts(const std::string& gguf_stacked, const std::string& hf_pattern,
                                int64_t n_expert, int64_t rows, int64_t cols,
                                const std::function<bool(int64_t)>& wanted = nullptr) const;
    // A tensor under its stored (HF or GGUF) name, shape-checked; nullptr when absent.
    const TensorView* find_stored(const std::string& stored,
                                  const std::vector<int64_t>& shape) const;

  private:
    [[noreturn]] void missing(const std::string& canonical) const;
    TensorView fp8_scale(const std::string& weight_name) const;
    void check_shape(const TensorView& t, const std::string& canonical,
                     const std::vector<int64_t>& shape) const;

    const ModelSource& source_;
    SimdLevel level_;
    Sharding sharding_;
    std::map<std::string, std::string> hf_stems_;
    int64_t fp8_block_ = 128;
};

}  // namespace pangolin
