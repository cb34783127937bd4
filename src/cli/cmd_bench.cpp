// pangolin bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r REPS] [-o md|json]
// pangolin bench --membw [-t THREADS]
//
// llama-bench's two tests: prompt processing (pp: n_prompt random tokens in one batch into
// an empty cache) and text generation (tg: n_gen random tokens one at a time from an empty
// cache), after one warm-up run, repeated REPS times; tokens/s mean ± sample standard
// deviation. Each test also reports the weight bytes read per token and the bandwidth that
// implies, as a percentage of the measured memory read bandwidth (the decode ceiling).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "kernels/cpu/membw.h"
#include "model/registry.h"
#include "runtime/session.h"

namespace pangolin::cli {

namespace {

struct BenchOptions {
    ModelOptions model;
    std::string output = "md";
    int n_prompt = 512, n_gen = 128, reps = 5;
    bool membw = false;
};

// llama.cpp's names for general.file_type (llama_ftype).
std::string ftype_name(const ModelSource& src) {
    if (!src.gguf()) return "safetensors";
    const auto ft = src.gguf()->get_int("general.file_type");
    if (!ft) return "?";
    switch (*ft) {
        case 0:
            return "all F32";
        case 1:
            return "F16";
        case 2:
            return "Q4_0";
        case 7:
            return "Q8_0";
        case 8:
            return "Q5_0";
        case 14:
            return "Q4_K - Small";
        case 15:
            return "Q4_K - Medium";
        case 18:
            return "Q6_K";
        case 32:
            return "BF16";
        case 38:
            return "MXFP4 MoE";
        default:
            return "type " + std::to_string(*ft);
    }
}

// Weight bytes one decode step reads: every matrix once, the embedding table only for its
// row (unless it doubles as the output head), and of stacked or per-expert tensors only the
// k experts a token is routed to.
double decode_bytes_per_token(const Model& m) {
    const ModelConfig& c = m.config();
    const bool tied = !m.source().find("output.weight") && !m.source().find("lm_head.weight");
    double bytes = 0;
    for (const auto* t : m.source().tensors()) {
        const std::string& n = t->name;
        double b = double(t->nbytes);
        const bool embedding = n == "token_embd.weight" || n == "model.embed_tokens.weight";
        if (embedding && !tied) b /= double(c.n_vocab);
        if (c.n_expert > 0 &&
            (n.find("_exps.") != std::string::npos || n.find(".experts.") != std::string::npos))
            b *= double(c.n_expert_used) / double(c.n_expert);
        bytes += b;
    }
    return bytes;
}

struct TestResult {
    int n_prompt = 0, n_gen = 0;
    std::vector<double> seconds;
};

double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / double(v.size());
}
double stddev(const std::vector<double>& v) {
    if (v.size() < 2) return 0;
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size() - 1));
}

std::string human_bytes(double b) {
    char buf[32];
    if (b >= double(1ull << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", b / double(1ull << 30));
    else
        std::snprintf(buf, sizeof buf, "%.2f MiB", b / double(1ull << 20));
    return buf;
}

}  // namespace

Runner add_bench(CLI::App& app) {
    auto o = std::make_shared<BenchOptions>();
    app.add_option("-m,--model", o->model.path, "GGUF file or Hugging Face folder");
    app.add_flag("--ep", o->model.expert_parallel,
                 "Expert parallelism under mpirun (see run --help)");
    app.add_flag("--tp", o->model.tensor_parallel,
                 "Tensor parallelism under mpirun (see run --help)");
    app.add_option("-p,--n-prompt", o->n_prompt,
                   "Prompt tokens evaluated in one batch (0: skip pp)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("-n,--n-gen", o->n_gen, "Tokens generated one at a time (0: skip tg)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("-t,--threads", o->model.threads, "Worker threads (default: all cores)");
    app.add_option("-r,--repetitions", o->reps, "Repetitions of each test (default 5)")
        ->check(CLI::PositiveNumber);
    app.add_option("-o,--output", o->output, "Output format: md (default) or json")
        ->check(CLI::IsMember({"md", "json"}));
    app.add_flag("--membw", o->membw, "Only measure the memory read bandwidth");
    return [o]() {
        const int threads = o->model.threads > 0 ? o->model.threads : ThreadPool::default_threads();
        if (o->membw) {
            ThreadPool pool(threads);
            const double bw = measure_read_bandwidth(pool);
            if (o->output == "json")
                std::printf("%s\n", nlohmann::json{{"n_threads", threads}, {"membw_gbs", bw / 1e9}}
                                        .dump(2)
                                        .c_str());
            else
                std::printf("memory read bandwidth: %.2f GB/s (%d threads)\n", bw / 1e9, threads);
            return 0;
        }
        require(!o->model.path.empty(), "bench needs -m MODEL (or --membw)");
        auto model = load_model_for_cli(o->model);
        if (follow_if_not_root(*model)) return 0;
        const ModelConfig& c = model->config();
        const double membw = measure_read_bandwidth(model->pool());
        const double model_bytes = double(model->source().tensor_bytes());
        const double tg_bytes = decode_bytes_per_token(*model);
        const int64_t n_params = model->n_params();
        char size_label[32];
        std::snprintf(size_label, sizeof size_label, "%.1fB", double(n_params) / 1e9);
        const std::string model_type =
            c.arch + " " + size_label + " " + ftype_name(model->source());

        std::mt19937 rng(1234);
        std::uniform_int_distribution<int32_t> pick(0, int32_t(c.n_vocab - 1));
        std::vector<TestResult> results;
        Session session(*model, std::max<int64_t>(1, int64_t(o->n_prompt) + o->n_gen));
        auto run_pp = [&] {
            std::vector<int32_t> prompt(static_cast<size_t>(o->n_prompt));
            for (auto& t : prompt) t = pick(rng);
            session.truncate(0);
            const auto t0 = std::chrono::steady_clock::now();
            session.eval(prompt);
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };
        auto run_tg = [&](int n) {
            session.truncate(0);
            const auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < n; ++i) session.eval({pick(rng)});
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        };
        if (o->n_prompt > 0) {
            TestResult r;
            r.n_prompt = o->n_prompt;
            // warm-up, twice: the first run sizes the scratch arena, whose consolidated block
            // the second run touches (llama.cpp allocates its buffers up front instead)
            run_pp();
            run_pp();
            for (int i = 0; i < o->reps; ++i) r.seconds.push_back(run_pp());
            results.push_back(r);
        }
        if (o->n_gen > 0) {
            TestResult r;
            r.n_gen = o->n_gen;
            run_tg(1);  // warm-up
            for (int i = 0; i < o->reps; ++i) r.seconds.push_back(run_tg(o->n_gen));
            results.push_back(r);
        }

        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : results) {
            const int n_tokens = r.n_prompt + r.n_gen;
            std::vector<double> ts, ns;
            for (double s : r.seconds) ts.push_back(n_tokens / s), ns.push_back(s * 1e9);
            // pp reads every weight once per batch; tg reads tg_bytes per token
            const double bytes_per_token = r.n_prompt > 0 ? model_bytes / r.n_prompt : tg_bytes;
            const double bw = bytes_per_token * mean(ts);
            out.push_back({
                {"model_filename", o->model.path},
                {"model_type", model_type},
                {"model_size", int64_t(model_bytes)},
                {"model_n_params", n_params},
                {"n_threads", threads},
                {"n_prompt", r.n_prompt},
                {"n_gen", r.n_gen},
                {"simd", simd_level_name(simd_level())},
                {"avg_ns", int64_t(mean(ns))},
                {"stddev_ns", int64_t(stddev(ns))},
                {"avg_ts", mean(ts)},
                {"stddev_ts", stddev(ts)},
                {"samples_ns", ns},
                {"samples_ts", ts},
                {"weight_bytes_per_token", bytes_per_token},
                {"bw_gbs", bw / 1e9},
                {"membw_gbs", membw / 1e9},
                {"bw_pct", 100.0 * bw / membw},
                {"bw_limit_ts", membw / bytes_per_token},
            });
        }
        if (o->output == "json") {
            std::printf("%s\n", out.dump(2).c_str());
            finish_parallel(*model);
            return 0;
        }
        std::printf("| model | size | params | backend | threads | test | t/s | BW %% |\n");
        std::printf("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
        for (const auto& j : out) {
            const int np = j["n_prompt"], ng = j["n_gen"];
            const std::string test = np > 0 ? "pp" + std::to_string(np) : "tg" + std::to_string(ng);
            std::printf("| %s | %s | %.2f B | CPU %s | %d | %s | %.2f ± %.2f | %.1f |\n",
                        model_type.c_str(), human_bytes(model_bytes).c_str(),
                        double(n_params) / 1e9, simd_level_name(simd_level()), threads,
                        test.c_str(), double(j["avg_ts"]), double(j["stddev_ts"]),
                        double(j["bw_pct"]));
        }
        std::printf(
            "\nmemory read bandwidth %.2f GB/s; decode reads %s of weights per token (limit %.1f "
            "t/s)\n",
            membw / 1e9, human_bytes(tg_bytes).c_str(), membw / tg_bytes);
        finish_parallel(*model);
        return 0;
    };
}

}  // namespace pangolin::cli
