// Streaming GGUF v3 writer. Metadata and tensor descriptions are declared first; the data
// of each tensor is then written in declaration order, so a converter never holds more
// than one tensor in memory. The output goes to "<path>.partial" and is renamed into place
// only by finish(): a failed write (disk full, unwritable folder) leaves no partial file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "formats/gguf.h"

namespace pangolin {

class GgufWriter {
  public:
    explicit GgufWriter(std::string path, size_t alignment = 32);
    ~GgufWriter();  // removes the partial file unless finish() succeeded
    GgufWriter(const GgufWriter&) = delete;
    GgufWriter& operator=(const GgufWriter&) = delete;

    void set_u32(const std::string& key, uint32_t v);
    void set_i32(const std::string& key, int32_t v);
    void set_u64(const std::string& key, uint64_t v);
    void set_f32(const std::string& key, float v);
    void set_bool(const std::string& key, bool v);
    void set_string(const std::string& key, const std::string& v);
    void set_strings(const std::string& key, const std::vector<std::string>& v);
    void set_f32s(const std::string& key, const std::vector<float>& v);
    void set_i32s(const std::string& key, const std::vector<int32_t>& v);
    // Copies a value read from another GGUF file (any type, arrays included).
    void set_value(const std::string& key, const GgufValue& v);

    // Declares a tensor; shape outermost first (as TensorView), data written later.
    void add_tensor(const std::string& name, DType type, const std::vector<int64_t>& shape);
    size_t tensor_bytes(size_t index) const { return tensors_[index].nbytes; }
    size_t n_tensors() const { return tensors_.size(); }
    uint64_t total_tensor_bytes() const;

    // Writes the header (after all metadata and tensors are declared).
    void write_header();
    // Appends the next tensor's bytes (possibly in several calls); padding is automatic.
    void write_tensor_data(const void* data, size_t n);
    // Checks every tensor was written in full, flushes, and renames into place.
    void finish();

  private:
    struct Kv {
        std::string key;
        std::vector<uint8_t> encoded;  // type + value
    };
    struct TensorDecl {
        std::string name;
        DType type;
        std::vector<int64_t> shape;
        size_t nbytes, offset;
    };
    void put(const std::string& key, std::vector<uint8_t> encoded);
    void write_raw(const void* data, size_t n);
    void pad_to_alignment();

    std::string path_, partial_path_;
    size_t alignment_;
    std::FILE* file_ = nullptr;
    std::vector<Kv> kv_;
    std::vector<TensorDecl> tensors_;
    size_t data_size_ = 0;
    size_t current_ = 0, current_written_ = 0;
    size_t written_ = 0;
    bool header_written_ = false, finished_ = false;
};

}  // namespace pangolin
