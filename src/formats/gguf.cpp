#include "formats/gguf.h"

#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/fp.h"

namespace pangolin {

namespace {

constexpr uint64_t k_max_dims = 8;

// Sequential little-endian reader over the mapped bytes with bounds checks.
class Cursor {
  public:
    Cursor(const uint8_t* data, size_t size, const std::string& path)
        : data_(data), size_(size), path_(path) {}

    size_t pos() const { return pos_; }
    size_t remaining() const { return size_ - pos_; }

    void need(size_t n, const std::string& what) const {
        if (n > remaining())
            fail(path_, ": truncated or corrupt GGUF file: ", what, " needs ", n,
                 " bytes at offset ", pos_, " but the file is only ", size_, " bytes long");
    }
    template <typename T>
    T read(const std::string& what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string read_string(const std::string& what) {
        const auto n = read<uint64_t>(what + " (length)");
        need(n, what);
        std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
        pos_ += size_t(n);
        return s;
    }
    const uint8_t* skip(size_t n, const std::string& what) {
        need(n, what);
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }

  private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    const std::string& path_;
};

GgufValue read_value(Cursor& c, GgufType type, const std::string& key, const std::string& path,
                     int depth);

void read_scalar(Cursor& c, GgufValue& v, const std::string& what) {
    switch (v.type) {
        case GgufType::U8:
            v.u = c.read<uint8_t>(what);
            v.i = int64_t(v.u);
            break;
        case GgufType::I8:
            v.i = c.read<int8_t>(what);
            v.u = uint64_t(v.i);
            break;
        case GgufType::U16:
            v.u = c.read<uint16_t>(what);
            v.i = int64_t(v.u);
            break;
        case GgufType::I16:
            v.i = c.read<int16_t>(what);
            v.u = uint64_t(v.i);
            break;
        case GgufType::U32:
            v.u = c.read<uint32_t>(what);
            v.i = int64_t(v.u);
            break;
        case GgufType::I32:
            v.i = c.read<int32_t>(what);
            v.u = uint64_t(v.i);
            break;
        case GgufType::U64:
            v.u = c.read<uint64_t>(what);
            v.i = int64_t(v.u);
            break;
        case GgufType::I64:
            v.i = c.read<int64_t>(what);
            v.u = uint64_t(v.i);
            break;
        case GgufType::F32:
            v.f = c.read<float>(what);
            break;
        case GgufType::F64:
            v.f = c.read<double>(what);
            break;
        case GgufType::Bool: {
            const auto b = c.read<uint8_t>(what);
            v.b = b != 0;
            v.i = b;
            break;
        }
        default:
            break;
    }
}

GgufValue read_value(Cursor& c, GgufType type, const std::string& key, const std::string& path,
                     int depth) {
    GgufValue v;
    v.type = type;
    const std::string what = "value of metadata key '" + key + "'";
    if (gguf_scalar_size(type)) {
        read_scalar(c, v, what);
    } else if (type == GgufType::String) {
        v.s = c.read_string(what);
    } else if (type == GgufType::Array) {
        require(depth < 4, path, ": metadata key '", key, "' nests arrays too deeply");
        v.elem_type = GgufType(c.read<uint32_t>(what + " (array type)"));
        v.count = c.read<uint64_t>(what + " (array length)");
        const size_t es = gguf_scalar_size(v.elem_type);
        if (es) {
            require(v.count <= c.remaining() / es, path,
                    ": truncated or corrupt GGUF file: array '", key, "' claims ", v.count,
                    " elements, more than the file holds");
            v.raw = c.skip(size_t(v.count) * es, what);
        } else if (v.elem_type == GgufType::String) {
            // each string takes at least its 8-byte length
            require(v.count <= c.remaining() / 8, path, ": truncated or corrupt GGUF file: array '",
                    key, "' claims ", v.count, " strings, more than the file holds");
            v.strings.reserve(size_t(v.count));
            for (uint64_t k = 0; k < v.count; ++k) v.strings.push_back(c.read_string(what));
        } else if (v.elem_type == GgufType::Array) {
            require(v.count <= c.remaining() / 12, path,
                    ": truncated or corrupt GGUF file: array '", key, "' claims ", v.count,
                    " arrays, more than the file holds");
            for (uint64_t k = 0; k < v.count; ++k)
                v.items.push_back(read_value(c, GgufType::Array, key, path, depth + 1));
        } else {
            fail(path, ": metadata key '", key, "' has an array of unknown type ",
                 uint32_t(v.elem_type));
        }
    } else {
        fail(path, ": metadata key '", key, "' has unknown value type ", uint32_t(type),
             " (corrupt file?)");
    }
    return v;
}

double scalar_as_double(GgufType t, const uint8_t* p) {
    switch (t) {
        case GgufType::U8:
            return *p;
        case GgufType::I8:
            return int8_t(*p);
        case GgufType::Bool:
            return *p != 0;
        case GgufType::U16: {
            uint16_t v;
            std::memcpy(&v, p, 2);
            return v;
        }
        case GgufType::I16: {
            int16_t v;
            std::memcpy(&v, p, 2);
            return v;
        }
        case GgufType::U32: {
            uint32_t v;
            std::memcpy(&v, p, 4);
            return v;
        }
        case GgufType::I32: {
            int32_t v;
            std::memcpy(&v, p, 4);
            return v;
        }
        case GgufType::F32: {
            float v;
            std::memcpy(&v, p, 4);
            return v;
        }
        case GgufType::U64: {
            uint64_t v;
            std::memcpy(&v, p, 8);
            return double(v);
        }
        case GgufType::I64: {
            int64_t v;
            std::memcpy(&v, p, 8);
            return double(v);
        }
        case GgufType::F64: {
            double v;
            std::memcpy(&v, p, 8);
            return v;
        }
        default:
            return 0;
    }
}

int64_t scalar_as_int(GgufType t, const uint8_t* p) {
    switch (t) {
        case GgufType::U64: {
            uint64_t v;
            std::memcpy(&v, p, 8);
            return int64_t(v);
        }
        case GgufType::I64: {
            int64_t v;
            std::memcpy(&v, p, 8);
            return v;
        }
        default:
            return int64_t(scalar_as_double(t, p));
    }
}

}  // namespace

size_t gguf_scalar_size(GgufType t) {
    switch (t) {
        case GgufType::U8:
        case GgufType::I8:
        case GgufType::Bool:
            return 1;
        case GgufType::U16:
        case GgufType::I16:
            return 2;
        case GgufType::U32:
        case GgufType::I32:
        case GgufType::F32:
            return 4;
        case GgufType::U64:
        case GgufType::I64:
        case GgufType::F64:
            return 8;
        default:
            return 0;
    }
}

std::string gguf_fp8_scale_name(const std::string& weight_name) {
    if (!weight_name.ends_with(".weight")) return "";
    return weight_name.substr(0, weight_name.size() - 7) + ".block_scale";
}

const char* gguf_type_name(GgufType t) {
    static const char* names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                  "bool", "string", "array", "u64", "i64", "f64"};
    return uint32_t(t) < 13 ? names[uint32_t(t)] : "unknown";
}

bool GgufValue::is_integer() const {
    switch (type) {
        case GgufType::U8:
        case GgufType::I8:
        case GgufType::U16:
        case GgufType::I16:
        case GgufType::U32:
        case GgufType::I32:
        case GgufType::U64:
        case GgufType::I64:
            return true;
        default:
            return false;
    }
}

std::string GgufValue::to_string(size_t max_items) const {
    if (is_integer()) return type == GgufType::U64 ? std::to_string(u) : std::to_string(i);
    if (is_float()) return str_cat(f);
    if (type == GgufType::Bool) return b ? "true" : "false";
    if (type == GgufType::String)
        return s.size() > 120 ? "\"" + s.substr(0, 117) + "...\"" : "\"" + s + "\"";
    std::string out = str_cat("[", gguf_type_name(elem_type), " × ", count, "] ");
    for (size_t k = 0; k < std::min<uint64_t>(count, max_items); ++k) {
        if (k) out += ", ";
        if (elem_type == GgufType::String)
            out += "\"" + strings[k] + "\"";
        else if (elem_type == GgufType::Array)
            out += items[k].to_string(2);
        else
            out += str_cat(scalar_as_double(elem_type, raw + k * gguf_scalar_size(elem_type)));
    }
    if (count > max_items) out += ", ...";
    return out;
}

GgufFile::GgufFile(const std::string& path) : file_(std::make_shared<MappedFile>(path)) {
    Cursor c(file_->data(), file_->size(), path);
    c.need(4, "the magic number");
    if (std::memcmp(file_->data(), "GGUF", 4) != 0)
        fail(path, ": not a GGUF file (it does not start with the magic bytes \"GGUF\")");
    c.skip(4, "magic");
    version_ = c.read<uint32_t>("the version");
    require(version_ == 2 || version_ == 3, path, ": GGUF version ", version_,
            " is not supported (Pangolin reads versions 2 and 3)");
    const auto n_tensors = c.read<uint64_t>("the tensor count");
    const auto n_kv = c.read<uint64_t>("the metadata count");
    // Every metadata entry takes at least 12 bytes and every tensor info at least 24.
    require(n_kv <= c.remaining() / 12, path, ": truncated or corrupt GGUF file: ", n_kv,
            " metadata entries cannot fit in a ", file_->size(), "-byte file");
    require(n_tensors <= c.remaining() / 24, path, ": truncated or corrupt GGUF file: ", n_tensors,
            " tensors cannot fit in a ", file_->size(), "-byte file");

    for (uint64_t k = 0; k < n_kv; ++k) {
        std::string key = c.read_string(str_cat("metadata key #", k));
        const auto type = GgufType(c.read<uint32_t>("type of metadata key '" + key + "'"));
        GgufValue v = read_value(c, type, key, path, 0);
        require(kv_index_.count(key) == 0, path, ": duplicate metadata key '", key, "'");
        kv_index_[key] = kv_.size();
        kv_.emplace_back(std::move(key), std::move(v));
    }

    if (const auto* a = find("general.alignment")) {
        require(a->is_integer() && a->u > 0 && (a->u & (a->u - 1)) == 0 && a->u <= (1u << 20), path,
                ": general.alignment must be a power of two, got ", a->to_string());
        alignment_ = size_t(a->u);
    }

    struct RawInfo {
        std::string name;
        std::vector<int64_t> dims;  // innermost first (GGUF order)
        uint32_t ggml_type;
        uint64_t offset;
    };
    std::vector<RawInfo> infos;
    infos.reserve(size_t(n_tensors));
    for (uint64_t t = 0; t < n_tensors; ++t) {
        RawInfo info;
        info.name = c.read_string(str_cat("name of tensor #", t));
        const auto n_dims = c.read<uint32_t>("dimension count of tensor '" + info.name + "'");
        require(n_dims >= 1 && n_dims <= k_max_dims, path, ": tensor '", info.name, "' has ",
                n_dims, " dimensions (1 to ", k_max_dims, " supported)");
        uint64_t numel = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const auto dim = c.read<uint64_t>("dimensions of tensor '" + info.name + "'");
            require(dim > 0 && dim < (uint64_t(1) << 40) &&
                        numel <= std::numeric_limits<uint64_t>::max() / dim / 64,
                    path, ": tensor '", info.name, "' has an invalid dimension ", dim);
            numel *= dim;
            info.dims.push_back(int64_t(dim));
        }
        info.ggml_type = c.read<uint32_t>("type of tensor '" + info.name + "'");
        info.offset = c.read<uint64_t>("offset of tensor '" + info.name + "'");
        infos.push_back(std::move(info));
    }
    data_offset_ = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
    const size_t data_size = file_->size() >= data_offset_ ? file_->size() - data_offset_ : 0;

    for (auto& info : infos) {
        const auto type = dtype_from_ggml(info.ggml_type);
        require(type.has_value(), path, ": tensor '", info.name, "' has type ",
                ggml_type_name(info.ggml_type),
                ", which Pangolin does not support (supported: "
                "F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K, MXFP4)");
        TensorView v;
        v.name = info.name;
        v.type = *type;
        v.shape.assign(info.dims.rbegin(), info.dims.rend());
        require(info.dims[0] % dtype_block_elems(*type) == 0, path, ": tensor '", info.name,
                "' has rows of ", info.dims[0], " values, not a multiple of the ",
                dtype_name(*type), " block size ", dtype_block_elems(*type));
        v.nbytes = dtype_row_bytes(*type, info.dims[0]) * size_t(v.numel() / info.dims[0]);
        require(info.offset % alignment_ == 0, path, ": tensor '", info.name, "' has offset ",
                info.offset, ", not a multiple of the alignment ", alignment_);
        require(info.offset <= data_size && v.nbytes <= data_size - info.offset, path, ": tensor '",
                info.name, "' (", v.nbytes, " bytes at data offset ", info.offset,
                ") extends past the end of the file: the data section holds ", data_size,
                " bytes (file truncated or corrupt)");
        v.data = file_->data() + data_offset_ + info.offset;
        require(tensor_index_.count(v.name) == 0, path, ": duplicate tensor name '", v.name, "'");
        tensor_index_[v.name] = tensors_.size();
        tensors_.push_back(std::move(v));
    }

    if (const auto block = get_int(k_gguf_fp8_block_key)) {
        require(*block > 0 && *block <= (1 << 16), path, ": ", k_gguf_fp8_block_key,
                " must be positive, got ", *block);
        fp8_block_ = *block;
        for (auto& t : tensors_) {
            if (t.type != DType::I8) continue;
            const auto it = tensor_index_.find(gguf_fp8_scale_name(t.name));
            if (it == tensor_index_.end()) continue;
            TensorView& scale = tensors_[it->second];
            require(scale.type == DType::I8 || scale.type == DType::F32, path,
                    ": FP8 scale tensor '", scale.name, "' must be I8 (E8M0 bytes) or F32, found ",
                    dtype_name(scale.type));
            t.type = DType::F8_E4M3;
            if (scale.type == DType::I8) scale.type = DType::E8M0;
        }
    }
}

const GgufValue* GgufFile::find(const std::string& key) const {
    auto it = kv_index_.find(key);
    return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorView* GgufFile::find_tensor(const std::string& name) const {
    auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_integer() || v->type == GgufType::Bool) return v->i;
    if (v->is_float() && v->f == double(int64_t(v->f))) return int64_t(v->f);
    fail(path(), ": metadata key '", key, "' should be an integer, found ",
         gguf_type_name(v->type));
}

std::optional<double> GgufFile::get_float(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_float()) return v->f;
    if (v->is_integer()) return double(v->i);
    fail(path(), ": metadata key '", key, "' should be a number, found ", gguf_type_name(v->type));
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (v->type == GgufType::Bool) return v->b;
    if (v->is_integer()) return v->i != 0;
    fail(path(), ": metadata key '", key, "' should be a bool, found ", gguf_type_name(v->type));
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    require(v->type == GgufType::String, path(), ": metadata key '", key,
            "' should be a string, found ", gguf_type_name(v->type));
    return v->s;
}

std::vector<std::string> GgufFile::get_strings(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return {};
    require(v->type == GgufType::Array && v->elem_type == GgufType::String, path(),
            ": metadata key '", key, "' should be an array of strings");
    return v->strings;
}

std::vector<float> GgufFile::get_floats(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return {};
    require(v->type == GgufType::Array && gguf_scalar_size(v->elem_type) != 0, path(),
            ": metadata key '", key, "' should be a numeric array");
    std::vector<float> out(size_t(v->count));
    const size_t es = gguf_scalar_size(v->elem_type);
    for (size_t k = 0; k < out.size(); ++k)
        out[k] = float(scalar_as_double(v->elem_type, v->raw + k * es));
    return out;
}

std::vector<int64_t> GgufFile::get_ints(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return {};
    if (v->is_integer()) return {v->i};
    require(v->type == GgufType::Array && gguf_scalar_size(v->elem_type) != 0, path(),
            ": metadata key '", key, "' should be an integer array");
    std::vector<int64_t> out(size_t(v->count));
    const size_t es = gguf_scalar_size(v->elem_type);
    for (size_t k = 0; k < out.size(); ++k) out[k] = scalar_as_int(v->elem_type, v->raw + k * es);
    return out;
}

}  // namespace pangolin
