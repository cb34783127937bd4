#include "convert/tensor_writer.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "core/quant_ref.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"

namespace pangolin {

namespace {

constexpr size_t k_band_bytes = size_t(16) << 20;  // float32 rows decoded at a time

struct Output {
    const TensorPlan* plan;
    DType type;
    std::vector<int64_t> scale_shape;  // FP8: [slices..., ceil(rows/B), ceil(cols/B)]
};

int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

// FP8: rows per slice (the matrix of one expert, or the whole matrix) and the slice count
std::pair<int64_t, int64_t> fp8_slices(const TensorPlan& p) {
    const auto& s = p.info.shape;
    const int64_t rows = s.size() >= 2 ? s[s.size() - 2] : 1;
    return {rows, p.rows() / rows};
}

void write_raw(GgufWriter& w, const TensorView& t, Progress& progress) {
    for (size_t off = 0; off < t.nbytes; off += k_band_bytes) {
        const size_t n = std::min(k_band_bytes, t.nbytes - off);
        w.write_tensor_data(t.data + off, n);
        progress.advance(n);
    }
}

void write_quantized(GgufWriter& w, const TensorPlan& p, DType type, ThreadPool& pool,
                     Progress& progress) {
    const int64_t cols = p.cols(), rows = p.rows();
    const size_t row_bytes = dtype_row_bytes(type, cols);
    const int64_t band = std::clamp<int64_t>(int64_t(k_band_bytes / (size_t(cols) * 4)), 1, rows);
    std::vector<float> x(static_cast<size_t>(band * cols));
    std::vector<uint8_t> q(static_cast<size_t>(band) * row_bytes);
    for (int64_t r0 = 0; r0 < rows; r0 += band) {
        const int64_t n = std::min(band, rows - r0);
        p.read_rows(r0, r0 + n, x.data());
        // one row per job: a row's bytes do not depend on which thread quantizes it
        pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
            for (int64_t r = b; r < e; ++r)
                quantize_row_ref(type, x.data() + r * cols, q.data() + size_t(r) * row_bytes, cols);
        });
        w.write_tensor_data(q.data(), size_t(n) * row_bytes);
        progress.advance(size_t(n) * row_bytes);
    }
}

// Writes the E4M3 codes of an FP8 tensor band by band (bands of `block` rows inside each
// slice) and then its scale tensor, which follows it in the file.
void write_fp8(GgufWriter& w, const TensorPlan& p, int64_t block, Progress& progress) {
    const int64_t cols = p.cols();
    const auto [rows, slices] = fp8_slices(p);
    const int64_t rb = ceil_div(rows, block), cb = ceil_div(cols, block);
    std::vector<uint8_t> scales(static_cast<size_t>(slices * rb * cb));
    std::vector<float> x(static_cast<size_t>(block * cols));
    std::vector<uint8_t> q(static_cast<size_t>(block * cols));
    for (int64_t s = 0; s < slices; ++s) {
        for (int64_t b = 0; b < rb; ++b) {
            const int64_t r0 = s * rows + b * block, n = std::min(block, rows - b * block);
            p.read_rows(r0, r0 + n, x.data());
            quantize_fp8_band_ref(x.data(), n, cols, block, q.data(),
                                  scales.data() + (s * rb + b) * cb);
            w.write_tensor_data(q.data(), size_t(n * cols));
            progress.advance(size_t(n * cols));
        }
    }
    w.write_tensor_data(scales.data(), scales.size());
    progress.advance(scales.size());
}

}  // namespace

int64_t TensorPlan::rows() const {
    int64_t n = 1;
    for (size_t i = 0; i + 1 < info.shape.size(); ++i) n *= info.shape[i];
    return n;
}

void write_planned_tensors(GgufWriter& writer, const std::vector<TensorPlan>& plans,
                           const QuantModelInfo& model, const OutputOptions& options) {
    // types, chosen in llama-quantize's order (its per-layer counters depend on it)
    std::vector<size_t> order(plans.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return llama_tensor_order(plans[a].info.name, plans[b].info.name);
    });
    std::vector<TensorInfo> infos;
    for (const auto& p : plans) infos.push_back(p.info);
    TypeChooser chooser(options.file_type, model, infos);
    std::vector<DType> types(plans.size());
    std::string note;
    for (size_t i : order) {
        types[i] = chooser.choose(plans[i].info, &note);
        if (!note.empty()) log_info("warning: ", note);
    }
    if (!options.llama_order) std::iota(order.begin(), order.end(), size_t(0));

    // declarations
    std::vector<Output> outputs;
    bool any_fp8 = false;
    for (size_t i : order) {
        const TensorPlan& p = plans[i];
        Output o{&p, types[i], {}};
        if (o.type == DType::F8_E4M3) {
            any_fp8 = true;
            o.scale_shape.assign(p.info.shape.begin(),
                                 p.info.shape.end() - std::min<size_t>(2, p.info.shape.size()));
            o.scale_shape.push_back(ceil_div(fp8_slices(p).first, options.fp8_block));
            o.scale_shape.push_back(ceil_div(p.cols(), options.fp8_block));
            writer.add_tensor(p.info.name, DType::I8, p.info.shape);
            const std::string scale_name = gguf_fp8_scale_name(p.info.name);
            require(!scale_name.empty(), "FP8 tensor ", p.info.name,
                    " must be named <stem>.weight");
            writer.add_tensor(scale_name, DType::I8, o.scale_shape);
        } else {
            writer.add_tensor(p.info.name, o.type, p.info.shape);
        }
        outputs.push_back(std::move(o));
    }
    if (any_fp8) writer.set_u32(k_gguf_fp8_block_key, uint32_t(options.fp8_block));
    writer.write_header();

    ThreadPool pool(std::max(1, options.threads));
    Progress progress("writing", writer.total_tensor_bytes(), "B");
    std::map<std::string, std::pair<int, uint64_t>> summary;
    for (const Output& o : outputs) {
        const TensorPlan& p = *o.plan;
        log_debug(p.info.name, " ", shape_to_string(p.info.shape), " ", dtype_name(p.info.type),
                  " → ", o.type == DType::F8_E4M3 ? "FP8" : dtype_name(o.type));
        if (o.type == DType::F8_E4M3) {
            write_fp8(writer, p, options.fp8_block, progress);
        } else if (p.raw && p.raw->type == o.type) {
            write_raw(writer, *p.raw, progress);
        } else {
            require(p.read_rows != nullptr, "internal: no way to read tensor ", p.info.name);
            write_quantized(writer, p, o.type, pool, progress);
        }
        auto& s = summary[o.type == DType::F8_E4M3 ? "FP8" : dtype_name(o.type)];
        ++s.first;
        s.second += uint64_t(p.rows() * p.cols());
    }
    writer.finish();
    progress.finish();
    std::string line;
    for (const auto& [name, s] : summary)
        line += str_cat(line.empty() ? "" : ", ", name, " ", s.first);
    log_info("wrote ", plans.size(), " tensors (", line, "), ", writer.total_tensor_bytes(),
             " bytes of tensor data");
}

}  // namespace pangolin
