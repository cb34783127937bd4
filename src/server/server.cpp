#include "server/server.h"

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "model/registry.h"
#include "server/server_state.h"
#include "text/chat_template.h"

namespace pangolin::server {

namespace {

std::atomic<httplib::Server*> g_server{nullptr};
std::atomic<bool> g_stopping{false};

void on_signal(int) {
    g_stopping = true;
    if (auto* s = g_server.load()) s->stop();
}

const char* error_type(int status) {
    switch (status) {
        case 400:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 404:
            return "not_found_error";
        case 413:
            return "invalid_request_error";
        case 429:
        case 503:
            return "server_unavailable";
        default:
            return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

// Anthropic's error types (docs.anthropic.com, "Errors").
const char* anthropic_error_type(int status) {
    switch (status) {
        case 401:
            return "authentication_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
        case 529:
            return "overloaded_error";
        default:
            return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

// 'Authorization: Bearer KEY', or Anthropic's 'x-api-key: KEY'.
bool authorized(const ServerState& st, const httplib::Request& req) {
    if (st.options.api_key.empty()) return true;
    const std::string auth = req.get_header_value("Authorization");
    return auth == "Bearer " + st.options.api_key ||
           req.get_header_value("x-api-key") == st.options.api_key;
}

std::string prometheus(const ServerState& st) {
    std::ostringstream o;
    auto gauge = [&](const char* name, const char* help, double v) {
        o << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n"
          << name << " " << v << "\n";
    };
    auto counter = [&](const char* name, const char* help, double v) {
        o << "# HELP " << name << " " << help << "\n# TYPE " << name << " counter\n"
          << name << " " << v << "\n";
    };
    auto histogram = [&](const char* name, const char* help, const std::vector<double>& bounds,
                         const std::vector<int64_t>& counts, double sum, int64_t n) {
        o << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
        for (size_t i = 0; i < bounds.size(); ++i)
            o << name << "_bucket{le=\"" << bounds[i] << "\"} " << counts[i] << "\n";
        o << name << "_bucket{le=\"+Inf\"} " << n << "\n"
          << name << "_sum " << sum << "\n"
          << name << "_count " << n << "\n";
    };
    const EngineMetrics m = st.engine ? st.engine->metrics() : EngineMetrics{};
    gauge("pangolin_requests_running", "Requests decoding now", double(m.running));
    gauge("pangolin_requests_waiting", "Requests queued", double(m.waiting));
    counter("pangolin_requests_total", "Generation requests accepted", double(m.requests_total));
    counter("pangolin_prompt_tokens_total", "Prompt tokens processed",
            double(m.prompt_tokens_total));
    counter("pangolin_generation_tokens_total", "Tokens generated",
            double(m.generated_tokens_total));
    counter("pangolin_prefix_cache_hit_tokens_total", "Prompt tokens served from the prefix cache",
            double(m.prefix_hit_tokens_total));
    gauge("pangolin_kv_cache_usage_ratio", "Share of KV-cache blocks in use", m.kv_usage);
    if (!m.ttft_buckets.empty()) {
        histogram("pangolin_time_to_first_token_seconds", "Time from request to first token",
                  m.ttft_buckets, m.ttft_counts, m.ttft_sum, m.ttft_n);
        histogram("pangolin_inter_token_latency_seconds", "Time between consecutive tokens",
                  m.itl_buckets, m.itl_counts, m.itl_sum, m.itl_n);
    }
    counter("pangolin_http_requests_total", "HTTP requests received",
            double(st.http_requests.load()));
    counter("pangolin_http_errors_total", "HTTP requests answered with an error",
            double(st.http_errors.load()));
    if (st.model && st.model->comm().distributed()) {
        const auto& es = st.model->expert_stats();
        for (size_t l = 0; l < es.rows_received.size(); ++l)
            if (es.rows_received[l] > 0)
                o << "pangolin_rank0_expert_rows_received_total{layer=\"" << l << "\"} "
                  << es.rows_received[l] << "\n";
        counter("pangolin_rank0_comm_bytes_sent_total", "Bytes rank 0 sent to other ranks",
                double(st.model->comm().stats().bytes_sent));
        counter("pangolin_rank0_comm_seconds_total", "Seconds rank 0 spent in collectives",
                st.model->comm().stats().seconds);
    }
    return o.str();
}

void load(ServerState& st) {
    try {
        st.model = cli::load_model_for_cli(st.options.model);
        if (cli::follow_if_not_root(*st.model)) return;
        st.tokenizer = load_tokenizer(st.model->source());
        st.chat_template = st.tokenizer->chat_template();
        if (!st.options.chat_template_file.empty()) {
            std::ifstream in(st.options.chat_template_file, std::ios::binary);
            require(in.good(), st.options.chat_template_file, ": cannot be read");
            std::stringstream text;
            text << in.rdbuf();
            st.chat_template = text.str();
            ChatTemplate check(
                st.chat_template);  // a syntax error stops the server here, with its line
        }
        st.pooling = st.options.pooling == "mean"   ? Pooling::Mean
                     : st.options.pooling == "last" ? Pooling::Last
                                                    : default_pooling(st.model->source());
        EngineOptions eo;
        const int64_t train =
            st.model->config().n_ctx_train > 0 ? st.model->config().n_ctx_train : 4096;
        eo.max_running = std::max<int64_t>(1, st.options.parallel);
        eo.n_ctx = st.options.ctx_size > 0 ? st.options.ctx_size
                                           : std::min<int64_t>(train * eo.max_running, 1 << 17);
        eo.max_sequence = std::min(train, eo.n_ctx);
        eo.max_waiting = st.options.max_waiting;
        for (int64_t id = 0; id < int64_t(st.tokenizer->n_vocab()); ++id)
            if (st.tokenizer->is_eog(int32_t(id))) eo.eog_tokens.push_back(int32_t(id));
        st.engine = std::make_unique<Engine>(*st.model, eo);
        st.engine->start();
        log_info("serve: model ready (", st.model->config().arch, ", context ", eo.n_ctx,
                 " tokens shared by ", eo.max_running, " sequences, at most ",
                 st.engine->max_sequence(), " per sequence)");
        st.ready = true;
    } catch (const std::exception& e) {
        st.load_error = e.what();
        log_info("error: ", e.what());
        if (auto* s = g_server.load()) s->stop();
    }
}

}  // namespace

bool server_stopping() {
    return g_stopping.load();
}

void send_error(httplib::Response& res, int status, const std::string& message, ErrorShape shape) {
    res.status = status;
    nlohmann::json body;
    if (shape == ErrorShape::Anthropic)
        body = {{"type", "error"},
                {"error", {{"type", anthropic_error_type(status)}, {"message", message}}}};
    else
        body = {{"error", {{"message", message}, {"type", error_type(status)}, {"code", status}}}};
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

ojson parse_body(const httplib::Request& req) {
    try {
        return ojson::parse(req.body);
    } catch (const ojson::exception& e) {
        throw HttpError(400, std::string("malformed JSON body: ") + e.what());
    }
}

namespace {

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// Wraps a route's handler: counts it, checks the API key (and that the model is loaded when
// it needs it), and answers what it throws in the route's error shape.
Handler guard(const std::shared_ptr<ServerState>& st, Handler handler, bool needs_model,
              ErrorShape shape = ErrorShape::OpenAi) {
    return [st, handler, needs_model, shape](const httplib::Request& req, httplib::Response& res) {
        ++st->http_requests;
        if (!authorized(*st, req)) {
            send_error(res, 401,
                       shape == ErrorShape::Anthropic
                           ? "missing or wrong API key (send 'x-api-key: <key>')"
                           : "missing or wrong API key (send 'Authorization: Bearer <key>')",
                       shape);
        } else if (needs_model && !st->ready) {
            send_error(res, 503, "the model is still loading", shape);
        } else {
            try {
                handler(req, res);
            } catch (const HttpError& e) {
                send_error(res, e.status, e.what(), shape);
            } catch (const Error& e) {
                send_error(res, 400, e.what(), shape);
            } catch (const nlohmann::json::exception& e) {
                send_error(res, 400, std::string("invalid JSON: ") + e.what(), shape);
            } catch (const std::exception& e) {
                send_error(res, 500, e.what(), shape);
            }
        }
        if (res.status >= 400) ++st->http_errors;
    };
}

void handle_health(ServerState& st, httplib::Response& res) {
    ++st.http_requests;
    if (st.ready) {
        res.set_content(R"({"status":"ok"})", "application/json");
    } else {
        res.status = 503;
        res.set_content(R"({"status":"loading"})", "application/json");
    }
}

void handle_models(const ServerState& st, httplib::Response& res) {
    nlohmann::json m = {{"id", st.model_id},
                        {"object", "model"},
                        {"created", st.created},
                        {"owned_by", "pangolin"}};
    if (st.ready)
        m["meta"] = {{"architecture", st.model->config().arch},
                     {"n_ctx", st.engine->max_sequence()},
                     {"n_vocab", st.model->config().n_vocab}};
    res.set_content(nlohmann::json{{"object", "list"}, {"data", {m}}}.dump(), "application/json");
}

void handle_tokenize(const ServerState& st, const httplib::Request& req, httplib::Response& res) {
    const auto body = nlohmann::json::parse(req.body);
    require(body.is_object() && body.contains("content") && body["content"].is_string(),
            "'content' must be a string");
    const bool add_special = body.value("add_special", false);
    const auto ids = st.tokenizer->encode(body["content"].get<std::string>(), add_special, true);
    nlohmann::json out = {{"tokens", ids}};
    if (body.value("with_pieces", false)) {
        out["tokens"] = nlohmann::json::array();
        for (int32_t id : ids)
            out["tokens"].push_back({{"id", id}, {"piece", st.tokenizer->token_to_piece(id)}});
    }
    res.set_content(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

void handle_detokenize(const ServerState& st, const httplib::Request& req, httplib::Response& res) {
    const auto body = nlohmann::json::parse(req.body);
    require(body.is_object() && body.contains("tokens") && body["tokens"].is_array(),
            "'tokens' must be a list of token ids");
    std::vector<int32_t> ids;
    for (const auto& t : body["tokens"]) {
        require(t.is_number_integer(), "'tokens' must be a list of token ids");
        ids.push_back(t.get<int32_t>());
    }
    const nlohmann::json out = {{"content", st.tokenizer->decode(ids)}};
    res.set_content(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
}

// httplib serves a connection per thread: idle keep-alive connections hold a thread until
// their timeout, so keep that short and the pool comfortably larger than the slots.
void configure_http(httplib::Server& http, const ServerOptions& options) {
    const int threads = options.http_threads > 0
                            ? options.http_threads
                            : int(std::max<int64_t>(32, options.parallel * 4 + 16));
    http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
    http.set_payload_max_length(options.max_body_bytes);
    http.set_keep_alive_timeout(1);
    http.set_read_timeout(60, 0);
    http.set_write_timeout(60, 0);
}

void register_routes(httplib::Server& http, const std::shared_ptr<ServerState>& st) {
    using Req = const httplib::Request&;
    using Res = httplib::Response&;
    http.Get("/health", [st](Req, Res res) { handle_health(*st, res); });
    http.Get("/metrics", guard(
                             st,
                             [st](Req, Res res) {
                                 res.set_content(prometheus(*st), "text/plain; version=0.0.4");
                             },
                             false));
    http.Get("/v1/models", guard(
                               st, [st](Req, Res res) { handle_models(*st, res); }, false));
    http.Post("/v1/chat/completions",
              guard(
                  st, [st](Req req, Res res) { handle_generation(*st, req, res, Endpoint::Chat); },
                  true));
    http.Post(
        "/v1/completions",
        guard(
            st, [st](Req req, Res res) { handle_generation(*st, req, res, Endpoint::Completion); },
            true));
    http.Post("/v1/responses",
              guard(
                  st, [st](Req req, Res res) { handle_responses(*st, req, res); }, true));
    http.Post("/v1/messages", guard(
                                  st, [st](Req req, Res res) { handle_messages(*st, req, res); },
                                  true, ErrorShape::Anthropic));
    http.Post("/v1/messages/count_tokens",
              guard(
                  st, [st](Req req, Res res) { handle_count_tokens(*st, req, res); }, true,
                  ErrorShape::Anthropic));
    http.Post("/v1/embeddings",
              guard(
                  st, [st](Req req, Res res) { handle_embeddings(*st, req, res); }, true));
    // the chat page: public (its API calls carry the key)
    http.Get("/", [st](Req, Res res) {
        ++st->http_requests;
        serve_static("/", res);
    });
    http.Get("/index.html", [st](Req req, Res res) {
        ++st->http_requests;
        serve_static(req.path, res);
    });
    http.Post("/tokenize",
              guard(
                  st, [st](Req req, Res res) { handle_tokenize(*st, req, res); }, true));
    http.Post("/detokenize",
              guard(
                  st, [st](Req req, Res res) { handle_detokenize(*st, req, res); }, true));
    http.set_error_handler([st](Req req, Res res) {
        if (!res.body.empty()) return;
        if (res.status == 404)
            send_error(res, 404, "no route " + req.method + " " + req.path);
        else if (res.status == 413)
            send_error(res, 413,
                       "request body too large (limit " +
                           std::to_string(st->options.max_body_bytes) + " bytes)");
        else
            send_error(res, res.status, "HTTP error " + std::to_string(res.status));
    });
}

// The port it listens on (an ephemeral one for port 0).
int bind_port(httplib::Server& http, const ServerOptions& options) {
    if (options.port == 0) {
        const int port = http.bind_to_any_port(options.host);
        require(port > 0, "cannot listen on ", options.host, " (no free port)");
        return port;
    }
    require(http.bind_to_port(options.host, options.port), "cannot listen on ", options.host, ":",
            options.port, " (address in use or not permitted)");
    return options.port;
}

std::shared_ptr<ServerState> make_state(const ServerOptions& options) {
    auto st = std::make_shared<ServerState>();
    st->options = options;
    st->created = int64_t(std::time(nullptr));
    st->model_id = options.model_alias.empty()
                       ? std::filesystem::path(options.model.path).filename().string()
                       : options.model_alias;
    if (st->model_id.empty()) st->model_id = options.model.path;
    return st;
}

}  // namespace

int run_server(const ServerOptions& options) {
    auto st = make_state(options);

    // Followers (MPI ranks other than 0) only load the model and follow rank 0's steps.
    if (world_communicator()->distributed() && world_communicator()->rank() != 0) {
        load(*st);
        return 0;
    }

    httplib::Server http;
    configure_http(http, options);
    register_routes(http, st);
    const int port = bind_port(http, options);
    g_server = &http;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    log_info("serve: listening on http://", options.host, ":", port, " (model id '", st->model_id,
             "')");
    std::thread loader([st] { load(*st); });
    http.listen_after_bind();
    g_server = nullptr;
    loader.join();
    if (st->engine) st->engine->stop();
    if (st->model) cli::finish_parallel(*st->model);
    if (!st->load_error.empty()) fail(st->load_error);
    log_info("serve: stopped");
    return 0;
}

}  // namespace pangolin::server
