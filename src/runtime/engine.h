// The serving engine: continuous batching over a paged KV cache with prefix reuse.
//
// One engine thread owns the model. At every step it admits waiting requests (sharing any
// cached prefix), then runs ONE forward pass over a batch holding the next token of every
// decoding sequence plus chunks of pending prompts, samples each sequence's next token with
// its own seeded generator, and retires finished or cancelled sequences. Requests join and
// leave the batch at every step. Because every kernel computes a row independently of the
// rest of the batch, a request's tokens and logprobs do not depend on what runs beside it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "model/model.h"
#include "runtime/logits_processing.h"
#include "runtime/prefix_cache.h"
#include "runtime/sampler.h"

namespace pangolin {

enum class FinishReason { Stop, Length, Cancelled, Error };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "cancelled", "error"

struct TokenEvent {
    int32_t token = -1;
    bool has_logprobs = false;
    TokenLogprobs logprobs;
};

struct RequestResult {
    FinishReason reason = FinishReason::Stop;
    std::string error;
    int64_t prompt_tokens = 0;
    int64_t cached_tokens = 0;  // prompt tokens served from the prefix cache
    int64_t generated_tokens = 0;
};

struct GenerationRequest {
    std::vector<int32_t> prompt;
    SamplerParams sampling;
    PenaltyParams penalties;
    std::vector<std::pair<int32_t, float>> logit_bias;
    int64_t max_tokens = 256;
    bool ignore_eos = false;
    std::vector<int32_t> stop_tokens;  // besides the model's end-of-generation tokens
    int top_logprobs = -1;             // -1: no logprobs; 0: the chosen token's only; n: plus top n
    // Called on the engine thread before sampling (constrained decoding masks logits here).
    std::function<void(float* logits, int64_t n_vocab)> logits_processor;
    // Called on the engine thread for each generated token; return false to finish (stop).
    std::function<bool(const TokenEvent&)> on_token;
    // Called once, on the engine thread, when the request leaves the engine.
    std::function<void(const RequestResult&)> on_finish;
};

// How an embedding is pooled from the prompt's final hidden states (after the output
// norm): the mean over all tokens, or the last token's (Qwen3-Embedding and other
// decoder-only embedders: only the last token has seen the whole text).
enum class Pooling { Mean, Last };

struct EmbeddingRequest {
    std::vector<int32_t> prompt;
    Pooling pooling = Pooling::Last;
    // Called once, on the engine thread: the pooled embedding, L2-normalized, [n_embd]
    // (empty unless result.reason is Stop).
    std::function<void(const std::vector<float>& embedding, const RequestResult& result)> on_done;
};

struct EngineOptions {
    int64_t n_ctx = 4096;      // KV-cache capacity in tokens, shared by all sequences
    int64_t max_sequence = 0;  // longest single sequence (0: the model's training context, ≤ n_ctx)
    int64_t max_running = 4;         // sequences decoding at once (--parallel)
    int64_t max_waiting = 64;        // queued requests beyond which submit() refuses
    int64_t max_batch_tokens = 512;  // tokens per forward pass (prompt chunks + decode tokens)
    int64_t block_size = 16;
    bool prefix_cache = true;
    std::vector<int32_t> eog_tokens;  // end-of-generation tokens (EOS, EOT, ...)
};

// Counters and latency samples for /metrics.
struct EngineMetrics {
    int64_t running = 0, waiting = 0;
    int64_t requests_total = 0, requests_finished = 0;
    int64_t prompt_tokens_total = 0, generated_tokens_total = 0, prefix_hit_tokens_total = 0;
    double kv_usage = 0;                            // used / total blocks
    std::vector<double> ttft_buckets, itl_buckets;  // upper bounds, seconds
    std::vector<int64_t> ttft_counts, itl_counts;   // cumulative counts per bucket
    double ttft_sum = 0, itl_sum = 0;
    int64_t ttft_n = 0, itl_n = 0;
};

class Engine {
  public:
    Engine(Model& model, const EngineOptions& options);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    const EngineOptions& options() const { return options_; }
    int64_t max_sequence() const { return max_sequence_; }

    // Starts the engine thread (requests may be submitted before).
    void start();
    void stop();

    // Thread-safe. Throws Error when the request can never run (empty prompt, prompt +
    // max_tokens beyond the sequence limit — the message gives the numbers, token ids out of
    // range). Returns 0 when the waiting queue is full, else the request id.
    uint64_t submit(std::shared_ptr<GenerationRequest> request);
    // The same for an embedding: its prompt is evaluated in batches beside the other
    // sequences (same slots, KV cache, prefix cache for last-token pooling) and pooled.
    uint64_t submit(std::shared_ptr<EmbeddingRequest> request);
    // Thread-safe; the sequence is freed at the next step.
    void cancel(uint64_t id);

    EngineMetrics metrics() const;

    // Runs steps on the calling thread until nothing is queued or running (tests, offline use;
    // only when start() was not called).
    void run_until_idle();

  private:
    struct Sequence;
    void loop();
    bool step();  // false when idle
    void admit();
    void finish(Sequence& s, FinishReason reason, const std::string& error = "");
    uint64_t enqueue(std::unique_ptr<Sequence> s);
    void step_embeddings();
    int64_t blocks_for(int64_t tokens) const;

    Model& model_;
    EngineOptions options_;
    int64_t max_sequence_ = 0;
    KvCache cache_;
    PrefixCache prefix_;
    Batch batch_;
    std::vector<float> logits_, hidden_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<Sequence>> incoming_;
    std::vector<uint64_t> cancelled_;
    std::vector<std::unique_ptr<Sequence>> waiting_, running_;
    uint64_t next_id_ = 1;
    int64_t reserved_blocks_ = 0;  // blocks promised to running sequences but not yet allocated
    std::atomic<bool> stop_{false};
    std::thread thread_;

    mutable std::mutex metrics_mutex_;
    EngineMetrics metrics_;
};

}  // namespace pangolin
