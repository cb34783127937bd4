// The interface every architecture implements, and the batch it evaluates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "formats/model_config.h"
#include "formats/model_source.h"
#include "kernels/cpu/cpu_features.h"
#include "model/kv_cache.h"
#include "parallel/comm.h"

namespace pangolin {

// Tokens to evaluate in one forward pass, possibly from several sequences. Token i is at
// position pos[i] of sequence seq[i]; its K/V are written to that sequence's cache slots.
// A sequence's positions in one batch must be consecutive and follow what it has cached.
struct Batch {
    std::vector<int32_t> tokens;
    std::vector<int32_t> pos;
    std::vector<SequenceKv*> seq;
    std::vector<uint8_t> want_logits;  // 1: return this token's logits
    std::vector<uint8_t> prompt;       // 1: a prompt token being prefilled (0: a decode step)
    // Instead of logits, forward writes the final hidden state after the output norm,
    // [n_logits(), n_embd], for the tokens with want_logits (embeddings).
    bool hidden = false;

    // `is_prompt` only selects how some attention variants are evaluated (MLA: expanded for
    // prompt tokens, absorbed for decode steps); a token's role, never the batch around it,
    // decides, so results do not depend on how prompts are chunked or batched.
    void add(int32_t token, int32_t position, SequenceKv* s, bool logits, bool is_prompt = false) {
        tokens.push_back(token);
        pos.push_back(position);
        seq.push_back(s);
        want_logits.push_back(logits ? 1 : 0);
        prompt.push_back(is_prompt ? 1 : 0);
    }
    size_t size() const { return tokens.size(); }
    size_t n_logits() const;
    void clear();
};

// How multi-head latent attention is evaluated: Absorbed keeps the attention in the
// compressed latent space (DeepSeek's inference form, used for decode); Expanded
// reconstructs per-head keys and values from the cached latents (cheaper for long prefill).
// Auto: expanded for prompt tokens (Batch::prompt), absorbed for decode steps.
enum class MlaMode { Auto, Absorbed, Expanded };

// How one model is spread over the ranks of a Communicator: expert parallelism shards each
// MoE layer's routed experts (contiguous ranges, whole groups for MoGE); tensor parallelism
// shards attention heads and MLP columns. Everything else is replicated.
enum class ParallelMode { None, Expert, Tensor };

struct LoadOptions {
    int n_threads = 0;  // 0: ThreadPool::default_threads()
    SimdLevel simd = simd_level();
    MlaMode mla_mode = MlaMode::Auto;
    ParallelMode parallel = ParallelMode::None;
    std::shared_ptr<Communicator> comm;  // null: single process
};

// Per-rank load of expert parallelism, accumulated over forward passes.
struct ExpertLoadStats {
    std::vector<std::vector<int64_t>>
        tokens_per_expert;               // [layer][expert]: routed (token, expert) pairs
    std::vector<int64_t> rows_received;  // [layer]: rows this rank computed (EP)
    double compute_seconds = 0;          // forward time outside communication
};

class Model {
  public:
    virtual ~Model() = default;

    const ModelConfig& config() const { return config_; }
    const ModelSource& source() const { return *source_; }
    ThreadPool& pool() { return *pool_; }

    // Shape of one KV-cache slot for this model (per layer widths), for `n_ctx` tokens.
    virtual KvCacheShape kv_shape(int64_t n_ctx) const;

    // Evaluates the batch, appending K/V to each sequence's cache and advancing its
    // n_tokens. Writes logits [batch.n_logits(), n_vocab] for tokens with want_logits
    // (normed hidden states [batch.n_logits(), n_embd] when batch.hidden).
    // In a distributed model only rank 0 calls forward; the other ranks run follow().
    virtual void forward(const Batch& batch, KvCache& cache, float* logits) = 0;

    // Ranks other than 0: execute rank 0's steps until it calls release_followers().
    virtual void follow() = 0;
    // Rank 0: tells the followers to return from follow() (idempotent; also on destruction).
    virtual void release_followers() = 0;

    Communicator& comm() const { return *comm_; }
    const LoadOptions& load_options() const { return options_; }
    const ExpertLoadStats& expert_stats() const { return expert_stats_; }
    // Bytes of expert weights this rank holds, and of all experts.
    size_t local_expert_bytes() const { return local_expert_bytes_; }
    size_t total_expert_bytes() const { return total_expert_bytes_; }
    // Address ranges of all stored expert weights (for residency measurements).
    const std::vector<std::pair<const void*, size_t>>& expert_ranges() const {
        return expert_ranges_;
    }

    // Number of weight values and stored bytes of the weights used by forward.
    int64_t n_params() const;

  protected:
    Model(std::unique_ptr<ModelSource> source, ModelConfig config, const LoadOptions& options);
    void check_batch(const Batch& batch, const KvCache& cache) const;

    std::unique_ptr<ModelSource> source_;
    ModelConfig config_;
    std::unique_ptr<ThreadPool> pool_;
    LoadOptions options_;
    std::shared_ptr<Communicator> comm_;
    ExpertLoadStats expert_stats_;
    size_t local_expert_bytes_ = 0, total_expert_bytes_ = 0;
    std::vector<std::pair<const void*, size_t>> expert_ranges_;
};

}  // namespace pangolin
