// State shared by the HTTP handlers (internal to src/server/).
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "model/model.h"
#include "runtime/engine.h"
#include "server/openai_request.h"
#include "server/server.h"
#include "text/tokenizer.h"

namespace pangolin::server {

struct ServerState {
    ServerOptions options;
    std::string model_id;
    std::atomic<bool> ready{false};
    std::string load_error;
    std::unique_ptr<Model> model;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<Engine> engine;
    std::string chat_template;
    Pooling pooling = Pooling::Last;  // of embeddings
    int64_t created = 0;
    std::atomic<uint64_t> next_id{1};
    // HTTP-level counters for /metrics
    std::atomic<int64_t> http_requests{0}, http_errors{0};
};

// Set when the server begins to shut down: handlers stop waiting for generations.
bool server_stopping();

// A request that ends in an HTTP error other than 400 (which plain Errors become). The
// route's handler wrapper answers it in that API's error shape.
struct HttpError : std::runtime_error {
    int status;
    HttpError(int s, const std::string& message) : std::runtime_error(message), status(s) {}
};

// The error body each API's clients expect.
enum class ErrorShape {
    OpenAi,     // {"error": {"message", "type", "code"}}
    Anthropic,  // {"type": "error", "error": {"type", "message"}}
};

// The error body with the status set.
void send_error(httplib::Response& res, int status, const std::string& message,
                ErrorShape shape = ErrorShape::OpenAi);

// The request body as JSON; HttpError 400 when it is not.
ojson parse_body(const httplib::Request& req);

// POST /v1/chat/completions and /v1/completions.
void handle_generation(ServerState& state, const httplib::Request& req, httplib::Response& res,
                       Endpoint endpoint);
// POST /v1/responses (OpenAI Responses API, stateless).
void handle_responses(ServerState& st, const httplib::Request& req, httplib::Response& res);
// POST /v1/messages and /v1/messages/count_tokens (Anthropic Messages API).
void handle_messages(ServerState& st, const httplib::Request& req, httplib::Response& res);
void handle_count_tokens(ServerState& st, const httplib::Request& req, httplib::Response& res);
// POST /v1/embeddings.
void handle_embeddings(ServerState& st, const httplib::Request& req, httplib::Response& res);
// The pooling a model's metadata asks for (GGUF <arch>.pooling_type, a sentence-transformers
// 1_Pooling/config.json beside a HF checkpoint); last-token pooling otherwise.
Pooling default_pooling(const ModelSource& source);
// GET / and the chat page's other files (compiled into the binary); false for other paths.
bool serve_static(const std::string& path, httplib::Response& res);

}  // namespace pangolin::server
