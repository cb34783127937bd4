// pangolin synth --shape NAME -o OUT.gguf [--type F16|F32|BF16|Q8_0|Q4_0|Q5_0] [--layers N]
//                [--seed S] [-t THREADS] | --list
// Writes a random-weight GGUF with the exact shapes and metadata of a real model.
#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "formats/synth.h"

namespace pangolin::cli {

namespace {
struct SynthCliOptions {
    std::string shape, output, type = "F16";
    int64_t layers = 0;
    uint64_t seed = 42;
    int threads = 0;
    bool list = false;
};
}  // namespace

Runner add_synth(CLI::App& app) {
    auto o = std::make_shared<SynthCliOptions>();
    app.add_option("--shape", o->shape, "Model shape (see --list)");
    app.add_option("-o,--output", o->output, "Output GGUF file");
    app.add_option("--type", o->type, "Weight type: F16 (default), F32, BF16, Q8_0, Q4_0, Q5_0");
    app.add_option("--layers", o->layers, "Number of layers (default: the model's)")
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", o->seed, "Random seed (default 42)");
    app.add_option("-t,--threads", o->threads, "Worker threads (default: all cores)");
    app.add_flag("--list", o->list, "List the known shapes");
    return [o]() {
        if (o->list) {
            std::printf("%-24s %-16s %10s %8s\n", "shape", "architecture", "params", "layers");
            for (const auto& s : synth_shapes())
                std::printf("%-24s %-16s %9.2fB %8lld\n", s.name.c_str(), s.arch.c_str(),
                            double(synth_param_count(s, 0)) / 1e9, (long long)s.n_layer);
            return 0;
        }
        require(!o->shape.empty(), "synth needs --shape NAME (see pangolin synth --list)");
        require(!o->output.empty(), "synth needs -o OUT.gguf");
        const SynthShape* shape = find_synth_shape(o->shape);
        if (!shape) {
            std::string known;
            for (const auto& s : synth_shapes()) known += (known.empty() ? "" : ", ") + s.name;
            fail("unknown shape '", o->shape, "' (known: ", known, ")");
        }
        const auto type = dtype_from_name(o->type);
        require(type.has_value(), "unknown weight type '", o->type, "'");
        SynthOptions so;
        so.type = *type;
        so.seed = o->seed;
        so.n_layer = o->layers;
        so.n_threads = o->threads;
        log_info("synth: ", shape->name, " (", shape->arch, ", ",
                 double(synth_param_count(*shape, o->layers)) / 1e9, "B parameters) as ",
                 dtype_name(*type), " → ", o->output);
        write_synth_gguf(*shape, so, o->output);
        return 0;
    };
}

}  // namespace pangolin::cli
