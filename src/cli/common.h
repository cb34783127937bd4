// Options and steps shared by the subcommands that load a model: threads, and the
// multi-process modes (--ep / --tp under mpirun), where rank 0 runs the command and the
// other ranks follow its forward passes.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "model/model.h"

namespace pangolin::cli {

struct ModelOptions {
    std::string path;
    int threads = 0;
    bool expert_parallel = false;
    bool tensor_parallel = false;
};

// -m/--model, -t/--threads, --ep, --tp.
void add_model_options(CLI::App& app, ModelOptions& o);
std::unique_ptr<Model> load_model_for_cli(const ModelOptions& o);

// Ranks other than 0 follow rank 0 here and return true: the caller then returns 0 without
// doing the command's own work. Rank 0 (and single processes) get false.
bool follow_if_not_root(Model& model);

// Rank 0 releases the followers; then every rank takes part in gathering the per-rank
// statistics (tokens received per layer, load imbalance, bytes sent, communication vs
// compute time, resident expert bytes), which rank 0 prints to stderr.
void finish_parallel(Model& model);

}  // namespace pangolin::cli
