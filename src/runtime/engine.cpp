#include "runtime/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "core/error.h"
#include "core/log.h"

namespace pangolin {

namespace {
using Clock = std::chrono::steady_clock;

const std::vector<double> k_ttft_buckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                            1,    2.5,   5,    10,  30,   60};
const std::vector<double> k_itl_buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                           0.1,   0.25,   0.5,   1,    2.5};

void observe(const std::vector<double>& buckets, std::vector<int64_t>& counts, double& sum,
             int64_t& n, double v) {
    for (size_t i = 0; i < buckets.size(); ++i)
        if (v <= buckets[i]) ++counts[i];
    sum += v;
    ++n;
}

void check_tokens(const std::vector<int32_t>& tokens, int64_t n_vocab) {
    for (int32_t t : tokens)
        require(t >= 0 && t < n_vocab, "token id ", t, " is outside the vocabulary (0 to ",
                n_vocab - 1, ")");
}
}  // namespace

const char* finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::Stop:
            return "stop";
        case FinishReason::Length:
            return "length";
        case FinishReason::Cancelled:
            return "cancelled";
        case FinishReason::Error:
            return "error";
    }
    return "?";
}

struct Engine::Sequence {
    uint64_t id = 0;
    std::shared_ptr<GenerationRequest> req;
    SequenceKv kv;
    std::vector<int32_t> tokens;  // prompt, then generated tokens
    int64_t n_prompt = 0;
    int64_t n_cached = 0;
    int64_t n_generated = 0;
    int64_t planned_blocks = 0;  // blocks this sequence may need in total
    std::unique_ptr<Sampler> sampler;
    TokenHistory history;
    Clock::time_point submitted, last_token;
    bool finished = false;
    std::shared_ptr<EmbeddingRequest> embed;  // set for an embedding
    std::vector<double> pooled;               // its running sum (mean) or last row

    bool prefilling() const { return kv.n_tokens < n_prompt; }
};

Engine::Engine(Model& model, const EngineOptions& options)
    : model_(model),
      options_(options),
      cache_([&] {
          KvCacheShape s = model.kv_shape(options.n_ctx);
          s.block_size = options.block_size;
          s.n_blocks = (options.n_ctx + options.block_size - 1) / options.block_size;
          return s;
      }()),
      prefix_(cache_) {
    const int64_t train =
        model.config().n_ctx_train > 0 ? model.config().n_ctx_train : options.n_ctx;
    max_sequence_ =
        options.max_sequence > 0 ? options.max_sequence : std::min(train, options.n_ctx);
    max_sequence_ = std::min(max_sequence_, cache_.capacity_tokens());
    metrics_.ttft_buckets = k_ttft_buckets;
    metrics_.itl_buckets = k_itl_buckets;
    metrics_.ttft_counts.assign(k_ttft_buckets.size(), 0);
    metrics_.itl_counts.assign(k_itl_buckets.size(), 0);
}

Engine::~Engine() {
    stop();
}

void Engine::start() {
    if (thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this] { loop(); });
}

void Engine::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

int64_t Engine::blocks_for(int64_t tokens) const {
    const int64_t bs = cache_.shape().block_size;
    return (tokens + bs - 1) / bs;
}

uint64_t Engine::submit(std::shared_ptr<GenerationRequest> request) {
    require(request != nullptr, "no request");
    require(!request->prompt.empty(), "the prompt is empty");
    check_tokens(request->prompt, model_.config().n_vocab);
    require(request->max_tokens >= 1, "max_tokens must be at least 1, got ", request->max_tokens);
    const int64_t n_prompt = int64_t(request->prompt.size());
    require(n_prompt + request->max_tokens <= max_sequence_, "the prompt (", n_prompt,
            " tokens) plus max_tokens (", request->max_tokens, ") is ",
            n_prompt + request->max_tokens, " tokens, more than the context of ", max_sequence_,
            " tokens");
    auto s = std::make_unique<Sequence>();
    s->req = std::move(request);
    s->tokens = s->req->prompt;
    s->n_prompt = n_prompt;
    s->sampler = std::make_unique<Sampler>(s->req->sampling);
    s->history.add_prompt(s->tokens);
    return enqueue(std::move(s));
}

uint64_t Engine::submit(std::shared_ptr<EmbeddingRequest> request) {
    require(request != nullptr, "no request");
    require(!request->prompt.empty(), "the input is empty");
    check_tokens(request->prompt, model_.config().n_vocab);
    const int64_t n_prompt = int64_t(request->prompt.size());
    require(n_prompt <= max_sequence_, "the input (", n_prompt,
            " tokens) is longer than the context of ", max_sequence_, " tokens");
    auto s = std::make_unique<Sequence>();
    s->req = std::make_shared<GenerationRequest>();
    s->req->max_tokens = 0;
    s->embed = std::move(request);
    s->tokens = s->embed->prompt;
    s->n_prompt = n_prompt;
    return enqueue(std::move(s));
}

uint64_t Engine::enqueue(std::unique_ptr<Sequence> s) {
    s->submitted = Clock::now();
    uint64_t id;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (int64_t(incoming_.size() + waiting_.size()) >= options_.max_waiting) return 0;
        id = s->id = next_id_++;
        incoming_.push_back(std::move(s));
    }
    {
        std::lock_guard<std::mutex> lock(metrics_mutex_);
        ++metrics_.requests_total;
    }
    wake_.notify_all();
    return id;
}

void Engine::cancel(uint64_t id) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        cancelled_.push_back(id);
    }
    wake_.notify_all();
}

EngineMetrics Engine::metrics() const {
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    return metrics_;
}

void Engine::finish(Sequence& s, FinishReason reason, const std::string& error) {
    if (s.finished) return;
    s.finished = true;
    if (options_.prefix_cache && reason != FinishReason::Error) prefix_.publish(s.tokens, s.kv);
    cache_.release(s.kv);
    RequestResult r;
    r.reason = reason;
    r.error = error;
    r.prompt_tokens = s.n_prompt;
    r.cached_tokens = s.n_cached;
    r.generated_tokens = s.n_generated;
    if (s.embed) {
        std::vector<float> e;
        if (reason == FinishReason::Stop) e.assign(s.pooled.begin(), s.pooled.end());
        try {
            if (s.embed->on_done) s.embed->on_done(e, r);
        } catch (const std::exception& ex) {
            log_info("request ", s.id, ": embedding callback failed: ", ex.what());
        }
    } else if (s.req->on_finish) {
        try {
            s.req->on_finish(r);
        } catch (const std::exception& e) {
            log_info("request ", s.id, ": finish callback failed: ", e.what());
        }
    }
    std::lock_guard<std::mutex> lock(metrics_mutex_);
    ++metrics_.requests_finished;
}

void Engine::admit() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        while (!incoming_.empty()) {
            waiting_.push_back(std::move(incoming_.front()));
            incoming_.pop_front();
        }
        for (uint64_t id : cancelled_) {
            for (auto& s : running_)
                if (s->id == id) finish(*s, FinishReason::Cancelled);
            for (auto& s : waiting_)
                if (s->id == id) finish(*s, FinishReason::Cancelled);
        }
        cancelled_.clear();
    }
    auto gone = [](const std::unique_ptr<Sequence>& s) { return s->finished; };
    waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), gone), waiting_.end());
    running_.erase(std::remove_if(running_.begin(), running_.end(), gone), running_.end());

    // Blocks promised to running sequences but not allocated yet.
    reserved_blocks_ = 0;
    for (auto& s : running_)
        reserved_blocks_ += std::max<int64_t>(0, s->planned_blocks - int64_t(s->kv.blocks.size()));

    while (!waiting_.empty() && int64_t(running_.size()) < options_.max_running) {
        Sequence& s = *waiting_.front();
        // mean pooling needs every prompt token's hidden state: nothing comes from the cache
        const bool mean = s.embed && s.embed->pooling == Pooling::Mean;
        if (options_.prefix_cache && !mean) {
            s.n_cached = prefix_.attach(s.tokens, s.kv);
            // at least the last prompt token is recomputed: its logits start generation
            if (s.n_cached >= s.n_prompt) s.kv.n_tokens = s.n_cached = s.n_prompt - 1;
        }
        s.planned_blocks = blocks_for(std::min(s.n_prompt + s.req->max_tokens, max_sequence_)) +
                           1;  // +1: copy-on-write
        const int64_t need = s.planned_blocks - int64_t(s.kv.blocks.size());
        const int64_t available =
            cache_.free_blocks() + prefix_.evictable_blocks() - reserved_blocks_;
        if (need > available) {
            cache_.release(s.kv);  // give back the shared prefix; retry later
            s.n_cached = 0;
            if (running_.empty()) {
                finish(s, FinishReason::Error,
                       "the KV cache cannot hold this request (raise --ctx-size)");
                waiting_.erase(waiting_.begin());
                continue;
            }
            break;
        }
        reserved_blocks_ += need;
        {
            std::lock_guard<std::mutex> lock(metrics_mutex_);
            metrics_.prompt_tokens_total += s.n_prompt;
            metrics_.prefix_hit_tokens_total += s.n_cached;
        }
        running_.push_back(std::move(waiting_.front()));
        waiting_.erase(waiting_.begin());
    }
}

bool Engine::step() {
    admit();
    auto gone = [](const std::unique_ptr<Sequence>& s) { return s->finished; };
    running_.erase(std::remove_if(running_.begin(), running_.end(), gone), running_.end());
    {
        std::lock_guard<std::mutex> lock(metrics_mutex_);
        metrics_.running = int64_t(running_.size());
        metrics_.kv_usage = double(cache_.used_blocks()) / double(cache_.shape().n_blocks);
        std::lock_guard<std::mutex> lock2(mutex_);
        metrics_.waiting = int64_t(waiting_.size() + incoming_.size());
    }
    if (running_.empty()) return false;
    step_embeddings();

    // Decode tokens first (one per decoding sequence), then prompt chunks within the budget.
    batch_.clear();
    std::vector<Sequence*> rows;  // sequence of each logits row, in batch order
    int64_t budget = std::max<int64_t>(options_.max_batch_tokens, int64_t(running_.size()));
    int64_t new_blocks = 0;
    const int64_t bs = cache_.shape().block_size;
    auto plan_blocks = [&](Sequence& s, int64_t end) {
        new_blocks += std::max<int64_t>(0, blocks_for(end) - int64_t(s.kv.blocks.size()));
        const int64_t b = s.kv.n_tokens / bs;
        if (b < int64_t(s.kv.blocks.size()) && cache_.refcount(s.kv.blocks[size_t(b)]) > 1)
            ++new_blocks;
    };
    for (auto& sp : running_) {
        Sequence& s = *sp;
        if (s.prefilling() || s.embed) continue;
        batch_.add(s.tokens.back(), int32_t(s.kv.n_tokens), &s.kv, true);
        plan_blocks(s, s.kv.n_tokens + 1);
        rows.push_back(&s);
        --budget;
    }
    for (auto& sp : running_) {
        Sequence& s = *sp;
        if (!s.prefilling() || s.embed || budget <= 0) continue;
        const int64_t n = std::min(budget, s.n_prompt - s.kv.n_tokens);
        for (int64_t i = 0; i < n; ++i) {
            const int64_t pos = s.kv.n_tokens + i;
            const bool last = pos == s.n_prompt - 1;
            batch_.add(s.tokens[size_t(pos)], int32_t(pos), &s.kv, last, /*is_prompt=*/true);
            if (last) rows.push_back(&s);
        }
        plan_blocks(s, s.kv.n_tokens + n);
        budget -= n;
    }
    const int64_t n_vocab = model_.config().n_vocab;
    logits_.resize(size_t(int64_t(rows.size()) * n_vocab));
    try {
        if (options_.prefix_cache) prefix_.make_room(new_blocks);
        model_.forward(batch_, cache_, logits_.data());
    } catch (const std::exception& e) {
        // Fail the sequences of this batch; the engine keeps serving the rest.
        std::vector<SequenceKv*> in_batch(batch_.seq.begin(), batch_.seq.end());
        for (auto& sp : running_)
            if (std::find(in_batch.begin(), in_batch.end(), &sp->kv) != in_batch.end())
                finish(*sp, FinishReason::Error, e.what());
        return true;
    }

    const auto now = Clock::now();
    for (size_t r = 0; r < rows.size(); ++r) {
        Sequence& s = *rows[r];
        GenerationRequest& q = *s.req;
        float* row = logits_.data() + r * size_t(n_vocab);
        apply_logit_bias(row, n_vocab, q.logit_bias);
        apply_penalties(row, n_vocab, q.penalties, s.history);
        if (q.logits_processor) q.logits_processor(row, n_vocab);
        TokenEvent ev;
        ev.token = s.sampler->sample(row, n_vocab);
        if (q.top_logprobs >= 0) {
            // log-probabilities of the adjusted distribution (after bias, penalties and
            // constraints; before temperature and truncation)
            ev.has_logprobs = true;
            ev.logprobs = compute_logprobs(row, n_vocab, ev.token, q.top_logprobs);
        }
        s.tokens.push_back(ev.token);
        s.history.add_output(ev.token);
        ++s.n_generated;
        {
            std::lock_guard<std::mutex> lock(metrics_mutex_);
            ++metrics_.generated_tokens_total;
            if (s.n_generated == 1)
                observe(metrics_.ttft_buckets, metrics_.ttft_counts, metrics_.ttft_sum,
                        metrics_.ttft_n, std::chrono::duration<double>(now - s.submitted).count());
            else
                observe(metrics_.itl_buckets, metrics_.itl_counts, metrics_.itl_sum, metrics_.itl_n,
                        std::chrono::duration<double>(now - s.last_token).count());
        }
        s.last_token = now;
        const bool eog =
            std::find(options_.eog_tokens.begin(), options_.eog_tokens.end(), ev.token) !=
                options_.eog_tokens.end() ||
            std::find(q.stop_tokens.begin(), q.stop_tokens.end(), ev.token) != q.stop_tokens.end();
        if (eog && !q.ignore_eos) {
            finish(s, FinishReason::Stop);
            continue;
        }
        bool keep_going = true;
        if (q.on_token) {
            try {
                keep_going = q.on_token(ev);
            } catch (const std::exception& e) {
                finish(s, FinishReason::Error, e.what());
                continue;
            }
        }
        if (!keep_going)
            finish(s, FinishReason::Stop);
        else if (s.n_generated >= q.max_tokens || s.kv.n_tokens + 1 >= max_sequence_)
            finish(s, FinishReason::Length);
    }
    {
        std::lock_guard<std::mutex> lock(metrics_mutex_);
        metrics_.kv_usage = double(cache_.used_blocks()) / double(cache_.shape().n_blocks);
    }
    return true;
}

// One forward pass over the next prompt chunks of the running embeddings, returning hidden
// states instead of logits; a finished prompt's pooled vector is normalized and delivered.
void Engine::step_embeddings() {
    Batch batch;
    batch.hidden = true;
    struct Rows {
        Sequence* s;
        int64_t first, n;  // batch rows holding hidden states of this sequence
        bool done;
    };
    std::vector<Rows> seqs;
    int64_t budget = options_.max_batch_tokens, new_blocks = 0, n_rows = 0;
    for (auto& sp : running_) {
        Sequence& s = *sp;
        if (!s.embed || s.finished || budget <= 0) continue;
        const bool mean = s.embed->pooling == Pooling::Mean;
        const int64_t n = std::min(budget, s.n_prompt - s.kv.n_tokens);
        Rows r{&s, n_rows, 0, s.kv.n_tokens + n == s.n_prompt};
        for (int64_t i = 0; i < n; ++i) {
            const int64_t pos = s.kv.n_tokens + i;
            const bool want = mean || pos == s.n_prompt - 1;
            batch.add(s.tokens[size_t(pos)], int32_t(pos), &s.kv, want, /*is_prompt=*/true);
            r.n += want ? 1 : 0;
        }
        new_blocks +=
            std::max<int64_t>(0, blocks_for(s.kv.n_tokens + n) - int64_t(s.kv.blocks.size()));
        n_rows += r.n;
        budget -= n;
        seqs.push_back(r);
    }
    if (seqs.empty()) return;
    const int64_t n_embd = model_.config().n_embd;
    hidden_.resize(size_t(n_rows * n_embd));
    try {
        if (options_.prefix_cache) prefix_.make_room(new_blocks + int64_t(seqs.size()));
        model_.forward(batch, cache_, hidden_.data());
    } catch (const std::exception& e) {
        for (auto& r : seqs) finish(*r.s, FinishReason::Error, e.what());
        return;
    }
    for (auto& r : seqs) {
        Sequence& s = *r.s;
        s.pooled.resize(size_t(n_embd), 0.0);
        for (int64_t k = 0; k < r.n; ++k) {
            const float* h = hidden_.data() + (r.first + k) * n_embd;
            for (int64_t j = 0; j < n_embd; ++j)
                s.pooled[size_t(j)] =
                    s.embed->pooling == Pooling::Mean ? s.pooled[size_t(j)] + h[j] : h[j];
        }
        if (!r.done) continue;
        double norm = 0;
        for (double& v : s.pooled) {
            if (s.embed->pooling == Pooling::Mean) v /= double(s.n_prompt);
            norm += v * v;
        }
        norm = std::sqrt(norm);
        if (norm > 0)
            for (double& v : s.pooled) v /= norm;
        finish(s, FinishReason::Stop);
    }
}

void Engine::loop() {
    while (!stop_) {
        bool busy = false;
        try {
            busy = step();
        } catch (const std::exception& e) {
            log_info("engine step failed: ", e.what());
        }
        if (!busy) {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stop_ || !incoming_.empty() || !cancelled_.empty(); });
        }
    }
    // fail whatever is left
    for (auto& s : running_) finish(*s, FinishReason::Cancelled, "server shutting down");
    for (auto& s : waiting_) finish(*s, FinishReason::Cancelled, "server shutting down");
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& s : incoming_) finish(*s, FinishReason::Cancelled, "server shutting down");
}

void Engine::run_until_idle() {
    while (step()) {
    }
}

}  // namespace pangolin
