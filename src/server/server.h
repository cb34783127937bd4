// `pangolin serve`: an OpenAI-compatible HTTP server (cpp-httplib) over the serving engine.
//
//   POST /v1/chat/completions   POST /v1/completions   GET /v1/models
//   GET /health (503 {"status":"loading"} until the model is ready)   GET /metrics (Prometheus)
//   POST /tokenize   POST /detokenize   POST /v1/responses (OpenAI Responses, stateless)
//   POST /v1/messages   POST /v1/messages/count_tokens (Anthropic)   POST /v1/embeddings
//   GET / (the chat page)
//
// Errors are OpenAI-shaped JSON {"error": {"message", "type", "code"}} (Anthropic's
// {"type": "error", "error": {"type", "message"}} on /v1/messages) with the HTTP status:
// 400 malformed JSON or fields, a prompt that does not fit the context; 401 missing/wrong
// API key (every route but /health and the chat page; 'Authorization: Bearer KEY' or
// 'x-api-key: KEY'); 404 unknown model or route; 413 body too large; 503 queue full or
// model still loading.
#pragma once

#include <cstdint>
#include <string>

#include "cli/common.h"

namespace pangolin::server {

struct ServerOptions {
    cli::ModelOptions model;
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string api_key;   // empty: no authentication
    int64_t parallel = 4;  // sequences decoding at once
    int64_t ctx_size =
        0;  // KV-cache tokens shared by all sequences (0: parallel × model context, capped)
    std::string model_alias;         // the model id clients send/see (default: file name)
    std::string chat_template_file;  // overrides the model's chat template
    size_t max_body_bytes = 8 << 20;
    int64_t max_waiting = 64;  // queued requests beyond which the server answers 503
    int http_threads = 0;      // 0: enough for parallel + waiting streams
    std::string pooling;       // embeddings: "mean" or "last" ("": the model's own)
};

// Runs until SIGINT/SIGTERM. Returns the process exit status.
int run_server(const ServerOptions& options);

}  // namespace pangolin::server
