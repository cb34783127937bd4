// Subcommands of the `pangolin` executable. Each registers its options on the CLI11 app
// and returns the function that runs it (exit status).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace pangolin::cli {

using Runner = std::function<int()>;

Runner add_logits(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_inspect(CLI::App& app);
Runner add_perplexity(CLI::App& app);
Runner add_serve(CLI::App& app);
Runner add_chat(CLI::App& app);
Runner add_tokenize(CLI::App& app);
Runner add_template(CLI::App& app);
Runner add_convert(CLI::App& app);
Runner add_quantize(CLI::App& app);
Runner add_synth(CLI::App& app);
Runner add_bench(CLI::App& app);

// Parses "5,17,42" (commas and/or spaces) into token ids; throws Error on bad input.
std::vector<int32_t> parse_token_list(const std::string& text);

}  // namespace pangolin::cli
