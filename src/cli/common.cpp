#include "cli/common.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "core/memory.h"
#include "model/registry.h"

namespace pangolin::cli {

void add_model_options(CLI::App& app, ModelOptions& o) {
    app.add_option("-m,--model", o.path, "GGUF file or Hugging Face folder")->required();
    app.add_option("-t,--threads", o.threads, "Worker threads per process (default: all cores)");
    app.add_flag(
        "--ep", o.expert_parallel,
        "Expert parallelism under mpirun: shard every MoE layer's routed experts over the ranks");
    app.add_flag(
        "--tp", o.tensor_parallel,
        "Tensor parallelism under mpirun: shard attention heads and MLP columns over the ranks");
}

std::unique_ptr<Model> load_model_for_cli(const ModelOptions& o) {
    require(!(o.expert_parallel && o.tensor_parallel), "choose one of --ep and --tp");
    LoadOptions lo;
    lo.n_threads = o.threads;
    if (o.expert_parallel) lo.parallel = ParallelMode::Expert;
    if (o.tensor_parallel) lo.parallel = ParallelMode::Tensor;
    lo.comm = world_communicator();
    if (lo.comm->distributed() && lo.comm->rank() != 0) set_log_level(LogLevel::Quiet);
    if (lo.comm->distributed() && lo.parallel == ParallelMode::None)
        log_info("note: started by mpirun without --ep or --tp: every rank holds the whole model");
    return load_model(o.path, lo);
}

bool follow_if_not_root(Model& model) {
    if (!model.comm().distributed() || model.comm().rank() == 0) return false;
    model.follow();
    finish_parallel(model);
    return true;
}

void finish_parallel(Model& model) {
    Communicator& comm = model.comm();
    if (!comm.distributed()) return;
    model.release_followers();
    const auto& st = model.expert_stats();
    const MemoryUsage mem = memory_usage();
    const int R = comm.size();
    auto gather = [&](double v) { return comm.gather_to_root(v); };
    const auto bytes_sent = gather(double(comm.stats().bytes_sent));
    const auto comm_s = gather(comm.stats().seconds);
    const auto compute_s = gather(st.compute_seconds);
    const auto local_experts = gather(double(model.local_expert_bytes()));
    const auto resident_experts = gather(double(resident_bytes_in(model.expert_ranges())));
    const auto rss_file = gather(double(mem.rss_file));
    const auto rss_anon = gather(double(mem.rss_anon));
    std::vector<std::vector<double>> received(st.rows_received.size());
    for (size_t l = 0; l < st.rows_received.size(); ++l)
        received[l] = gather(double(st.rows_received[l]));
    if (comm.rank() != 0 || log_level() < LogLevel::Info) return;
    const char* mode = model.load_options().parallel == ParallelMode::Expert   ? "expert"
                       : model.load_options().parallel == ParallelMode::Tensor ? "tensor"
                                                                               : "replicated";
    std::fprintf(stderr, "parallel: %d ranks, %s parallelism\n", R, mode);
    for (int r = 0; r < R; ++r) {
        double rows = 0;
        for (const auto& l : received) rows += l[size_t(r)];
        const double total_time = comm_s[size_t(r)] + compute_s[size_t(r)];
        std::fprintf(stderr,
                     "  rank %d: expert rows received %.0f, sent %.2f MB, communication %.3f s "
                     "(%.0f%%), compute %.3f s, "
                     "expert weights held %.2f of %.2f MB (resident %.2f MB), process resident "
                     "%.1f MB file-backed + "
                     "%.1f MB anonymous\n",
                     r, rows, bytes_sent[size_t(r)] / 1e6, comm_s[size_t(r)],
                     total_time > 0 ? 100 * comm_s[size_t(r)] / total_time : 0.0,
                     compute_s[size_t(r)], local_experts[size_t(r)] / 1e6,
                     double(model.total_expert_bytes()) / 1e6, resident_experts[size_t(r)] / 1e6,
                     rss_file[size_t(r)] / 1e6, rss_anon[size_t(r)] / 1e6);
    }
    for (size_t l = 0; l < received.size(); ++l) {
        const auto& v = received[l];
        const double sum = std::accumulate(v.begin(), v.end(), 0.0);
        if (sum == 0) continue;
        std::string per_rank;
        for (double x : v) per_rank += (per_rank.empty() ? "" : " ") + std::to_string(int64_t(x));
        std::fprintf(stderr, "  layer %zu: rows per rank [%s], max/mean %.3f\n", l,
                     per_rank.c_str(), *std::max_element(v.begin(), v.end()) / (sum / R));
    }
}

}  // namespace pangolin::cli
