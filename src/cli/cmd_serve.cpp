// pangolin serve -m MODEL [--host 127.0.0.1] [--port 8080] [--api-key KEY | --api-key-file F]
//                [--parallel N] [--ctx-size N] [--model-alias NAME] [--pooling mean|last]
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "server/server.h"

namespace pangolin::cli {

Runner add_serve(CLI::App& app) {
    auto o = std::make_shared<server::ServerOptions>();
    auto key_file = std::make_shared<std::string>();
    add_model_options(app, o->model);
    app.add_option("--host", o->host,
                   "Address to listen on (default 127.0.0.1: this machine only)");
    app.add_option("--port", o->port, "Port (0: any free port, printed on stderr)")
        ->check(CLI::Range(0, 65535));
    auto* key = app.add_option("--api-key", o->api_key,
                               "Require 'Authorization: Bearer KEY' on every route but /health");
    app.add_option("--api-key-file", *key_file, "Read the API key from this file")->excludes(key);
    app.add_option("--parallel,--np", o->parallel, "Sequences decoding at once")
        ->check(CLI::Range(int64_t(1), int64_t(256)));
    app.add_option(
        "-c,--ctx-size", o->ctx_size,
        "KV-cache tokens shared by all sequences (default: parallel × the model's context)");
    app.add_option("--model-alias", o->model_alias,
                   "Model id for clients (default: the file or folder name)");
    app.add_option("--chat-template-file", o->chat_template_file,
                   "Jinja chat template to use instead of the model's");
    app.add_option("--max-body", o->max_body_bytes, "Largest request body in bytes");
    app.add_option("--max-waiting", o->max_waiting,
                   "Queued requests beyond which the server answers 503");
    app.add_option("--pooling", o->pooling,
                   "Embeddings: mean or last token (default: the model's metadata, else last)")
        ->check(CLI::IsMember({"mean", "last"}));
    return [o, key_file]() {
        if (!key_file->empty()) {
            std::ifstream in(*key_file);
            require(in.good(), *key_file, ": cannot be read");
            std::stringstream ss;
            ss << in.rdbuf();
            std::string k = ss.str();
            while (!k.empty() && (k.back() == '\n' || k.back() == '\r' || k.back() == ' '))
                k.pop_back();
            require(!k.empty(), *key_file, ": the API key file is empty");
            o->api_key = k;
        }
        return server::run_server(*o);
    };
}

}  // namespace pangolin::cli
