// pangolin tokenize -m MODEL [--no-bos] [--no-parse-special] (--file F | TEXT)
// Prints the token ids of the text, space-separated. Only the vocabulary is loaded: a GGUF's
// metadata or a Hugging Face folder's tokenizer files, never the weights.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "text/tokenizer.h"

namespace pangolin::cli {

namespace {
struct TokenizeOptions {
    std::string model, text, file;
    bool no_bos = false;
    bool no_parse_special = false;
};

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    require(in.good(), path, ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    require(!in.bad(), path, ": read error");
    return ss.str();
}
}  // namespace

Runner add_tokenize(CLI::App& app) {
    auto o = std::make_shared<TokenizeOptions>();
    app.add_option("-m,--model", o->model,
                   "GGUF file or Hugging Face folder (only the vocabulary is read)")
        ->required();
    auto* file = app.add_option("-f,--file", o->file, "Tokenize the exact bytes of this file");
    app.add_option("text", o->text, "Text to tokenize")->excludes(file);
    app.add_flag("--no-bos", o->no_bos, "Do not add the BOS token the vocabulary asks for");
    app.add_flag("--no-parse-special", o->no_parse_special,
                 "Tokenize special-token text such as <|im_start|> as plain text");
    return [o, file, &app]() {
        const bool has_text = app.count("text") > 0;
        require(has_text || file->count() > 0,
                "tokenize: give the text as an argument or --file FILE");
        const std::string text = has_text ? o->text : read_bytes(o->file);
        const auto tokenizer = load_tokenizer(o->model);
        log_debug(o->model, ": ", tokenizer->describe());
        const auto ids = tokenizer->encode(text, !o->no_bos, !o->no_parse_special);
        std::string line;
        for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
        line += '\n';
        std::fwrite(line.data(), 1, line.size(), stdout);
        return 0;
    };
}

}  // namespace pangolin::cli
