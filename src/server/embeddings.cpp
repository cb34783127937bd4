// POST /v1/embeddings: OpenAI's embeddings. Each input is evaluated by the engine beside the
// running generations (one sequence per input, batched with the others); the final hidden
// states (after the output norm) are pooled — mean over the tokens or the last token's —
// and L2-normalized. `dimensions` keeps the first N values and normalizes again
// (Matryoshka embeddings such as Qwen3-Embedding).
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/error.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "server/generation.h"

namespace pangolin::server {

namespace {

struct EmbeddingInput {
    std::vector<std::vector<int32_t>> prompts;
    bool base64 = false;
    int64_t dimensions = 0;  // 0: all
};

std::vector<int32_t> token_list(const ojson& v, const std::string& where) {
    require(!v.empty(), where, " is an empty token list");
    std::vector<int32_t> ids;
    for (const auto& t : v) ids.push_back(int32_t(integer(t, where.c_str(), 0, INT32_MAX)));
    return ids;
}

EmbeddingInput parse_embeddings_request(const ServerState& st, const ojson& body) {
    require(body.is_object(), "the request body must be a JSON object");
    if (const ojson* v = field(body, "model")) {
        require(v->is_string(), "'model' must be a string");
        check_model(st, v->get<std::string>());
    }
    EmbeddingInput in;
    const ojson* input = field(body, "input");
    require(input != nullptr, "'input' is required");
    auto text = [&](const ojson& s, const std::string& where) {
        require(!s.get<std::string>().empty(), where, " is an empty string");
        return st.tokenizer->encode(s.get<std::string>(), /*add_bos=*/true,
                                    /*parse_special=*/true);
    };
    if (input->is_string()) {
        in.prompts.push_back(text(*input, "'input'"));
    } else {
        require(input->is_array() && !input->empty() && input->size() <= 2048,
                "'input' must be a string, a list of up to 2048 strings, a list of token ids or "
                "a list of token lists");
        if ((*input)[0].is_number()) {
            in.prompts.push_back(token_list(*input, "input"));
        } else {
            for (size_t i = 0; i < input->size(); ++i) {
                const ojson& item = (*input)[i];
                const std::string where = "input[" + std::to_string(i) + "]";
                if (item.is_string())
                    in.prompts.push_back(text(item, where));
                else if (item.is_array())
                    in.prompts.push_back(token_list(item, where));
                else
                    fail(where, " must be a string or a list of token ids, got ", item.type_name());
            }
        }
    }
    for (const auto& p : in.prompts) require(!p.empty(), "an input has no tokens");
    if (const ojson* v = field(body, "encoding_format")) {
        require(v->is_string() && (*v == "float" || *v == "base64"),
                "'encoding_format' must be 'float' or 'base64'");
        in.base64 = *v == "base64";
    }
    if (const ojson* v = field(body, "dimensions"))
        in.dimensions = integer(*v, "dimensions", 1, st.model->config().n_embd);
    return in;
}

std::string base64(const std::vector<float>& v) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* b = reinterpret_cast<const unsigned char*>(v.data());  // little-endian float32
    const size_t n = v.size() * sizeof(float);
    std::string out;
    for (size_t i = 0; i < n; i += 3) {
        const uint32_t x = uint32_t(b[i]) << 16 | (i + 1 < n ? uint32_t(b[i + 1]) << 8 : 0) |
                           (i + 2 < n ? uint32_t(b[i + 2]) : 0);
        out += k[x >> 18 & 63];
        out += k[x >> 12 & 63];
        out += i + 1 < n ? k[x >> 6 & 63] : '=';
        out += i + 2 < n ? k[x & 63] : '=';
    }
    return out;
}

// The first `dims` values, normalized again.
void truncate(std::vector<float>& e, int64_t dims) {
    if (dims <= 0 || dims >= int64_t(e.size())) return;
    e.resize(size_t(dims));
    double norm = 0;
    for (float x : e) norm += double(x) * x;
    norm = std::sqrt(norm);
    if (norm > 0)
        for (float& x : e) x = float(x / norm);
}

// The embeddings of every input, through the engine. Inputs are submitted as the waiting
// queue allows, so a long list neither overflows it nor waits for one input at a time.
std::vector<std::vector<float>> embed_all(ServerState& st, const EmbeddingInput& in) {
    struct Results {
        std::mutex mutex;
        std::condition_variable cv;
        std::vector<std::vector<float>> vectors;
        size_t done = 0;
        std::string error;
    };
    auto results = std::make_shared<Results>();
    results->vectors.resize(in.prompts.size());
    std::vector<uint64_t> ids(in.prompts.size(), 0);
    size_t next = 0;
    auto cancel_all = [&] {
        for (size_t i = 0; i < next; ++i) st.engine->cancel(ids[i]);
    };
    for (;;) {
        while (next < in.prompts.size()) {
            auto r = std::make_shared<EmbeddingRequest>();
            r->prompt = in.prompts[next];
            r->pooling = st.pooling;
            const size_t i = next;
            r->on_done = [results, i](const std::vector<float>& e, const RequestResult& rr) {
                std::lock_guard<std::mutex> lock(results->mutex);
                if (rr.reason == FinishReason::Stop)
                    results->vectors[i] = e;
                else if (results->error.empty())
                    results->error = rr.error.empty() ? "cancelled" : rr.error;
                ++results->done;
                results->cv.notify_all();
            };
            uint64_t id = 0;
            try {
                id = st.engine->submit(r);
            } catch (...) {
                cancel_all();
                throw;
            }
            if (id == 0) break;  // the queue is full: submit the rest as inputs finish
            ids[next++] = id;
        }
        std::unique_lock<std::mutex> lock(results->mutex);
        if (next == 0)
            throw HttpError(503, "the server is busy: too many requests are waiting (retry later)");
        const size_t before = results->done;
        results->cv.wait_for(lock, std::chrono::milliseconds(200),
                             [&] { return results->done > before; });
        if (!results->error.empty()) {
            lock.unlock();
            cancel_all();
            throw HttpError(500, "embedding failed: " + results->error);
        }
        if (results->done == in.prompts.size()) return results->vectors;
        if (server_stopping()) {
            lock.unlock();
            cancel_all();
            throw HttpError(503, "the server is shutting down");
        }
    }
}

}  // namespace

Pooling default_pooling(const ModelSource& source) {
    if (const GgufFile* g = source.gguf()) {
        // llama.cpp's LLAMA_POOLING_TYPE: 0 none, 1 mean, 2 cls, 3 last, 4 rank
        const auto t = g->get_int(source.architecture() + ".pooling_type");
        if (t && *t == 1) return Pooling::Mean;
        if (t && *t != 3 && *t != 0)
            log_info("serve: pooling type ", *t,
                     " is not supported; embeddings pool the last token");
        return Pooling::Last;
    }
    // sentence-transformers' pooling module next to the checkpoint
    const auto cfg = std::filesystem::path(source.path()) / "1_Pooling" / "config.json";
    std::ifstream f(cfg);
    if (f.good()) {
        try {
            const auto j = nlohmann::json::parse(f);
            if (j.value("pooling_mode_mean_tokens", false)) return Pooling::Mean;
        } catch (const std::exception& e) {
            log_info("serve: ", cfg.string(), ": ", e.what(), "; embeddings pool the last token");
        }
    }
    return Pooling::Last;
}

void handle_embeddings(ServerState& st, const httplib::Request& req, httplib::Response& res) {
    const EmbeddingInput in = parse_embeddings_request(st, parse_body(req));
    std::vector<std::vector<float>> vectors = embed_all(st, in);
    json data = json::array();
    int64_t tokens = 0;
    for (size_t i = 0; i < vectors.size(); ++i) {
        truncate(vectors[i], in.dimensions);
        tokens += int64_t(in.prompts[i].size());
        data.push_back({{"object", "embedding"},
                        {"index", i},
                        {"embedding", in.base64 ? json(base64(vectors[i])) : json(vectors[i])}});
    }
    res.set_content(dump(json{{"object", "list"},
                              {"data", data},
                              {"model", st.model_id},
                              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}}),
                    "application/json");
}

}  // namespace pangolin::server
