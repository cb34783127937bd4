// pangolin: command-line entry point. Data goes to stdout, diagnostics to stderr; any Error
// is printed as "error: <message>" with exit status 1.
#include <cstdio>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "parallel/comm.h"

int main(int argc, char** argv) {
    using namespace pangolin;
    CLI::App app{"Pangolin: an inference engine for open-weight language models"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "pangolin 0.1.0");
    bool verbose = false, quiet = false;
    app.add_flag("-v,--verbose", verbose, "Print debugging details to stderr");
    app.add_flag("-q,--quiet", quiet, "Print only errors to stderr");

    std::map<CLI::App*, cli::Runner> runners;
    auto add = [&](const char* name, const char* help, cli::Runner (*fn)(CLI::App&)) {
        CLI::App* sub = app.add_subcommand(name, help);
        runners[sub] = fn(*sub);
    };
    add("run", "Generate tokens from a prompt", &cli::add_run);
    add("logits", "Write the logits of every prompt position to a float32 file", &cli::add_logits);
    add("chat", "Interactive chat in the terminal", &cli::add_chat);
    add("serve", "OpenAI-compatible HTTP server", &cli::add_serve);
    add("perplexity", "Perplexity of a text file (llama-perplexity's protocol)",
        &cli::add_perplexity);
    add("inspect", "Describe a model: architecture, hyperparameters, tensors", &cli::add_inspect);
    add("tokenize", "Print the token ids of a text", &cli::add_tokenize);
    add("template", "Render a chat template over a conversation (as apply_chat_template)",
        &cli::add_template);
    add("convert", "Convert a Hugging Face checkpoint to GGUF (llama.cpp's layout)",
        &cli::add_convert);
    add("quantize", "Change the tensor types of a GGUF file (llama-quantize's rules)",
        &cli::add_quantize);
    add("synth", "Write a random-weight GGUF with the shapes of a real model", &cli::add_synth);
    add("bench", "Measure prompt processing and generation speed (llama-bench's tests)",
        &cli::add_bench);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    set_log_level(quiet ? LogLevel::Quiet : verbose ? LogLevel::Debug : LogLevel::Info);
    try {
        for (auto& [sub, run] : runners)
            if (sub->parsed()) return run();
    } catch (const Error& e) {
        // Under mpirun an error on any rank ends the whole job (no rank waits forever).
        if (launched_by_mpi() && mpi_available() && world_communicator()->distributed())
            world_communicator()->abort(1, e.what());
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const nlohmann::json::exception& e) {
        std::fprintf(stderr, "error: invalid JSON: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "error: out of memory\n");
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
