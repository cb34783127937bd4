// pangolin convert HF_DIR OUT.gguf [--type T] [--vocab-from GGUF] [--name NAME] [-t THREADS]
// pangolin quantize IN.gguf OUT.gguf TYPE [--pure] [-t THREADS]
#include "cli/commands.h"
#include "convert/convert.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace pangolin::cli {

namespace {

FileTypeSpec parse_type_option(const std::string& text, bool pure) {
    auto spec = parse_file_type(text);
    require(spec.has_value(), "unknown type '", text, "' (supported: ", file_type_names(), ")");
    spec->pure |= pure;
    return *spec;
}

int thread_count(int requested) {
    return requested > 0 ? requested : ThreadPool::default_threads();
}

}  // namespace

Runner add_convert(CLI::App& app) {
    struct Options {
        std::string input, output, type = "F32", vocab_from, name;
        bool pure = false;
        int threads = 0;
    };
    auto o = std::make_shared<Options>();
    app.add_option("hf_dir", o->input, "Hugging Face checkpoint folder (config.json + safetensors)")
        ->required();
    app.add_option("output", o->output, "GGUF file to write")->required();
    app.add_option("--type", o->type, "Tensor types: " + file_type_names() + " (default F32)");
    app.add_flag("--pure", o->pure,
                 "Give every quantizable tensor the base type (no llama-quantize mix)");
    app.add_option(
        "--vocab-from", o->vocab_from,
        "Copy the tokenizer.* keys of this GGUF instead of reading the folder's tokenizer");
    app.add_option("--name", o->name, "general.name (default: the folder's name)");
    app.add_option("-t,--threads", o->threads, "Worker threads (default: all cores)");
    return [o]() {
        ConvertOptions c;
        c.file_type = parse_type_option(o->type, o->pure);
        c.threads = thread_count(o->threads);
        c.vocab_from = o->vocab_from;
        c.name = o->name;
        convert_hf_to_gguf(o->input, o->output, c);
        return 0;
    };
}

Runner add_quantize(CLI::App& app) {
    struct Options {
        std::string input, output, type;
        bool pure = false;
        int threads = 0;
    };
    auto o = std::make_shared<Options>();
    app.add_option("input", o->input, "GGUF file to read")->required();
    app.add_option("output", o->output, "GGUF file to write")->required();
    app.add_option("type", o->type, "File type: " + file_type_names())->required();
    app.add_flag("--pure", o->pure,
                 "Give every quantizable tensor the base type (no llama-quantize mix)");
    app.add_option("-t,--threads", o->threads, "Worker threads (default: all cores)");
    return [o]() {
        QuantizeOptions q;
        q.file_type = parse_type_option(o->type, o->pure);
        q.threads = thread_count(o->threads);
        quantize_gguf(o->input, o->output, q);
        return 0;
    };
}

}  // namespace pangolin::cli
