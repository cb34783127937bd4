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

}  // namespace pangolin::server
