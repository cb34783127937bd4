#include "formats/safetensors.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

namespace pangolin {

namespace fs = std::filesystem;
using nlohmann::json;

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(std::make_shared<MappedFile>(path)) {
    const size_t size = file_->size();
    require(size >= 8, path, ": truncated safetensors file (", size, " bytes, no header)");
    uint64_t header_len;
    std::memcpy(&header_len, file_->data(), 8);
    require(header_len <= size - 8, path, ": corrupt safetensors file: header length ", header_len,
            " exceeds the file size ", size);
    const char* hp = reinterpret_cast<const char*>(file_->data() + 8);
    json header;
    try {
        header = json::parse(hp, hp + header_len);
    } catch (const json::exception& e) {
        fail(path, ": corrupt safetensors header (not valid JSON): ", e.what());
    }
    require(header.is_object(), path, ": corrupt safetensors header: not a JSON object");
    const uint8_t* data = file_->data() + 8 + header_len;
    const size_t data_size = size - 8 - size_t(header_len);

    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        if (name == "__metadata__") {
            if (it->is_object())
                for (auto m = it->begin(); m != it->end(); ++m)
                    if (m->is_string()) metadata_[m.key()] = m->get<std::string>();
            continue;
        }
        const json& t = it.value();
        require(t.is_object() && t.contains("dtype") && t.contains("shape") &&
                    t.contains("data_offsets"),
                path, ": tensor '", name, "' lacks dtype, shape or data_offsets in the header");
        require(t["dtype"].is_string(), path, ": tensor '", name, "': dtype must be a string");
        const std::string dt = t["dtype"].get<std::string>();
        const auto type = dtype_from_safetensors(dt);
        require(type.has_value(), path, ": tensor '", name, "' has dtype ", dt,
                ", which Pangolin does not support (F32, F16, BF16, F8_E4M3, F8_E8M0, U8, I8, "
                "I16, I32, I64, F64)");
        TensorView v;
        v.name = name;
        v.type = *type;
        require(t["shape"].is_array(), path, ": tensor '", name, "': shape must be a list");
        uint64_t numel = 1;
        for (const auto& d : t["shape"]) {
            require(d.is_number_integer() && d.get<int64_t>() >= 0 &&
                        d.get<int64_t>() < (int64_t(1) << 40),
                    path, ": tensor '", name, "' has an invalid shape ", t["shape"].dump());
            const auto dim = uint64_t(d.get<int64_t>());
            require(dim == 0 || numel <= std::numeric_limits<uint64_t>::max() / dim / 16, path,
                    ": tensor '", name, "' shape is too large");
            numel *= dim;
            v.shape.push_back(int64_t(dim));
        }
        const json& off = t["data_offsets"];
        require(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() &&
                    off[1].is_number_unsigned(),
                path, ": tensor '", name, "': data_offsets must be two non-negative integers");
        const auto begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
        require(begin <= end && end <= data_size, path, ": tensor '", name, "' byte range [", begin,
                ", ", end, ") lies outside the data section of ", data_size,
                " bytes (file truncated or header corrupt)");
        const uint64_t expect = numel * uint64_t(dtype_block_bytes(*type));
        require(end - begin == expect, path, ": tensor '", name, "' header says shape ",
                v.shape_str(), " of ", dt, " (", expect, " bytes) but its data_offsets span ",
                end - begin, " bytes");
        v.data = data + begin;
        v.nbytes = size_t(end - begin);
        tensors_.push_back(std::move(v));
    }
}

SafetensorsSet::SafetensorsSet(const std::string& folder) {
    const fs::path dir(folder);
    std::vector<std::string> shard_names;
    if (fs::exists(dir / "model.safetensors.index.json")) {
        const auto index_path = (dir / "model.safetensors.index.json").string();
        std::ifstream in(index_path);
        json index;
        try {
            index = json::parse(in);
        } catch (const json::exception& e) {
            fail(index_path, ": not valid JSON: ", e.what());
        }
        require(index.contains("weight_map") && index["weight_map"].is_object(), index_path,
                ": missing the \"weight_map\" object");
        std::set<std::string> seen;
        for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
            require(it->is_string(), index_path, ": weight_map values must be file names");
            const auto shard = it->get<std::string>();
            require(shard.find('/') == std::string::npos && shard.find("..") == std::string::npos,
                    index_path, ": shard name '", shard, "' must be a plain file name");
            if (seen.insert(shard).second) shard_names.push_back(shard);
        }
    } else if (fs::exists(dir / "model.safetensors")) {
        shard_names.push_back("model.safetensors");
    } else {
        std::vector<std::string> found;
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ".safetensors")
                found.push_back(e.path().filename().string());
        std::sort(found.begin(), found.end());
        require(!found.empty(), folder,
                ": no model.safetensors, model.safetensors.index.json or "
                "*.safetensors file in this folder");
        shard_names = found;
    }
    for (const auto& shard : shard_names) {
        const auto shard_path = (dir / shard).string();
        require(fs::exists(shard_path), shard_path, ": shard listed in the index is missing");
        files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
        for (const auto& t : files_.back()->tensors()) {
            require(index_.count(t.name) == 0, folder, ": tensor '", t.name,
                    "' appears in more than one shard");
            index_[t.name] = &t;
        }
    }
}

const TensorView* SafetensorsSet::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second;
}

std::vector<const TensorView*> SafetensorsSet::all() const {
    std::vector<const TensorView*> out;
    for (const auto& f : files_)
        for (const auto& t : f->tensors()) out.push_back(&t);
    return out;
}

}  // namespace pangolin
