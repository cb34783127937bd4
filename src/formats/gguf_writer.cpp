#include "formats/gguf_writer.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace pangolin {

namespace {

template <typename T>
void append(std::vector<uint8_t>& out, T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof(T));
}
void append_string(std::vector<uint8_t>& out, const std::string& s) {
    append<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}
void encode_value(std::vector<uint8_t>& e, const GgufValue& v) {
    append<uint32_t>(e, uint32_t(v.type));
    switch (v.type) {
        case GgufType::U8:
            append<uint8_t>(e, uint8_t(v.u));
            break;
        case GgufType::I8:
            append<int8_t>(e, int8_t(v.i));
            break;
        case GgufType::U16:
            append<uint16_t>(e, uint16_t(v.u));
            break;
        case GgufType::I16:
            append<int16_t>(e, int16_t(v.i));
            break;
        case GgufType::U32:
            append<uint32_t>(e, uint32_t(v.u));
            break;
        case GgufType::I32:
            append<int32_t>(e, int32_t(v.i));
            break;
        case GgufType::U64:
            append<uint64_t>(e, v.u);
            break;
        case GgufType::I64:
            append<int64_t>(e, v.i);
            break;
        case GgufType::F32:
            append<float>(e, float(v.f));
            break;
        case GgufType::F64:
            append<double>(e, v.f);
            break;
        case GgufType::Bool:
            append<uint8_t>(e, v.b ? 1 : 0);
            break;
        case GgufType::String:
            append_string(e, v.s);
            break;
        case GgufType::Array: {
            append<uint32_t>(e, uint32_t(v.elem_type));
            append<uint64_t>(e, v.count);
            if (v.elem_type == GgufType::String) {
                for (const auto& s : v.strings) append_string(e, s);
            } else if (v.elem_type == GgufType::Array) {
                for (const auto& item : v.items) {
                    std::vector<uint8_t> sub;
                    encode_value(sub, item);
                    e.insert(e.end(), sub.begin() + 4, sub.end());  // nested: no type tag
                }
            } else {
                e.insert(e.end(), v.raw, v.raw + v.count * gguf_scalar_size(v.elem_type));
            }
            break;
        }
    }
}

}  // namespace

GgufWriter::GgufWriter(std::string path, size_t alignment)
    : path_(std::move(path)), partial_path_(path_ + ".partial"), alignment_(alignment) {}

GgufWriter::~GgufWriter() {
    if (file_) std::fclose(file_);
    if (!finished_) {
        std::error_code ec;
        std::filesystem::remove(partial_path_, ec);
    }
}

void GgufWriter::put(const std::string& key, std::vector<uint8_t> encoded) {
    require(!header_written_, "GGUF writer: metadata added after the header was written");
    for (auto& kv : kv_)
        if (kv.key == key) {
            kv.encoded = std::move(encoded);
            return;
        }
    kv_.push_back({key, std::move(encoded)});
}

void GgufWriter::set_u32(const std::string& key, uint32_t v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::U32));
    append(e, v);
    put(key, std::move(e));
}
void GgufWriter::set_i32(const std::string& key, int32_t v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::I32));
    append(e, v);
    put(key, std::move(e));
}
void GgufWriter::set_u64(const std::string& key, uint64_t v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::U64));
    append(e, v);
    put(key, std::move(e));
}
void GgufWriter::set_f32(const std::string& key, float v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::F32));
    append(e, v);
    put(key, std::move(e));
}
void GgufWriter::set_bool(const std::string& key, bool v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::Bool));
    append<uint8_t>(e, v ? 1 : 0);
    put(key, std::move(e));
}
void GgufWriter::set_string(const std::string& key, const std::string& v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::String));
    append_string(e, v);
    put(key, std::move(e));
}
void GgufWriter::set_strings(const std::string& key, const std::vector<std::string>& v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::Array));
    append<uint32_t>(e, uint32_t(GgufType::String));
    append<uint64_t>(e, v.size());
    for (const auto& s : v) append_string(e, s);
    put(key, std::move(e));
}
void GgufWriter::set_f32s(const std::string& key, const std::vector<float>& v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::Array));
    append<uint32_t>(e, uint32_t(GgufType::F32));
    append<uint64_t>(e, v.size());
    for (float f : v) append(e, f);
    put(key, std::move(e));
}
void GgufWriter::set_i32s(const std::string& key, const std::vector<int32_t>& v) {
    std::vector<uint8_t> e;
    append<uint32_t>(e, uint32_t(GgufType::Array));
    append<uint32_t>(e, uint32_t(GgufType::I32));
    append<uint64_t>(e, v.size());
    for (int32_t x : v) append(e, x);
    put(key, std::move(e));
}
void GgufWriter::set_value(const std::string& key, const GgufValue& v) {
    std::vector<uint8_t> e;
    encode_value(e, v);
    put(key, std::move(e));
}

void GgufWriter::add_tensor(const std::string& name, DType type,
                            const std::vector<int64_t>& shape) {
    require(!header_written_, "GGUF writer: tensor added after the header was written");
    require(!shape.empty(), "GGUF writer: tensor ", name, " has no dimensions");
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
    TensorDecl t{name, type, shape, dtype_row_bytes(type, shape.back()) * size_t(rows), 0};
    data_size_ = (data_size_ + alignment_ - 1) / alignment_ * alignment_;
    t.offset = data_size_;
    data_size_ += t.nbytes;
    tensors_.push_back(std::move(t));
}

uint64_t GgufWriter::total_tensor_bytes() const {
    return data_size_;
}

void GgufWriter::write_raw(const void* data, size_t n) {
    if (n == 0) return;
    if (std::fwrite(data, 1, n, file_) != n)
        fail(path_, ": write failed after ", written_, " bytes: ", std::strerror(errno),
             " (disk full or file size limit?)");
    written_ += n;
}

void GgufWriter::pad_to_alignment() {
    static const uint8_t zeros[256] = {};
    size_t pad = (alignment_ - written_ % alignment_) % alignment_;
    while (pad > 0) {
        const size_t n = std::min(pad, sizeof zeros);
        write_raw(zeros, n);
        pad -= n;
    }
}

void GgufWriter::write_header() {
    require(!header_written_, "GGUF writer: header written twice");
    file_ = std::fopen(partial_path_.c_str(), "wb");
    require(file_ != nullptr, path_, ": cannot create output file: ", std::strerror(errno));
    header_written_ = true;
    bool has_alignment = false;
    for (const auto& kv : kv_) has_alignment |= kv.key == "general.alignment";
    if (!has_alignment && alignment_ != 32) {
        header_written_ = false;
        set_u32("general.alignment", uint32_t(alignment_));
        header_written_ = true;
    }
    std::vector<uint8_t> h;
    h.insert(h.end(), {'G', 'G', 'U', 'F'});
    append<uint32_t>(h, 3);
    append<uint64_t>(h, tensors_.size());
    append<uint64_t>(h, kv_.size());
    for (const auto& kv : kv_) {
        append_string(h, kv.key);
        h.insert(h.end(), kv.encoded.begin(), kv.encoded.end());
    }
    for (const auto& t : tensors_) {
        append_string(h, t.name);
        append<uint32_t>(h, uint32_t(t.shape.size()));
        for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)
            append<uint64_t>(h, uint64_t(*it));
        append<uint32_t>(h, dtype_to_ggml(t.type));
        append<uint64_t>(h, t.offset);
    }
    write_raw(h.data(), h.size());
    pad_to_alignment();
    current_ = 0;
    current_written_ = 0;
}

void GgufWriter::write_tensor_data(const void* data, size_t n) {
    require(header_written_, "GGUF writer: tensor data before the header");
    while (current_ < tensors_.size() && current_written_ == tensors_[current_].nbytes) {
        ++current_;
        current_written_ = 0;
        pad_to_alignment();
    }
    require(current_ < tensors_.size(), "GGUF writer: more tensor data than declared");
    const auto& t = tensors_[current_];
    require(current_written_ + n <= t.nbytes, "GGUF writer: tensor ", t.name, " gets ",
            current_written_ + n, " bytes, declared ", t.nbytes);
    write_raw(data, n);
    current_written_ += n;
}

void GgufWriter::finish() {
    require(header_written_, "GGUF writer: finish() before the header");
    const bool complete = tensors_.empty() || (current_ == tensors_.size() - 1 &&
                                               current_written_ == tensors_.back().nbytes);
    require(complete, "GGUF writer: not every declared tensor was written");
    if (std::fflush(file_) != 0 || std::fclose(file_) != 0) {
        file_ = nullptr;
        fail(path_, ": write failed: ", std::strerror(errno), " (disk full?)");
    }
    file_ = nullptr;
    std::error_code ec;
    std::filesystem::rename(partial_path_, path_, ec);
    require(!ec, path_, ": cannot move the finished file into place: ", ec.message());
    finished_ = true;
}

}  // namespace pangolin
