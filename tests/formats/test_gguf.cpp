#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "support/fixtures.h"

using namespace pangolin;
using namespace pangolin::test;
namespace fs = std::filesystem;

namespace {

// A small valid GGUF: every scalar type, string and nested arrays, two tensors.
void write_sample(const fs::path& path) {
    GgufWriter w(path.string());
    w.set_string("general.architecture", "llama");
    w.set_u32("test.u32", 7);
    w.set_i32("test.i32", -3);
    w.set_u64("test.u64", 1ull << 40);
    w.set_f32("test.f32", 0.5f);
    w.set_bool("test.bool", true);
    w.set_strings("test.strings", {"a", "bc", ""});
    w.set_f32s("test.floats", {1.5f, -2.0f});
    w.set_i32s("test.ints", {1, 2, 3});
    GgufValue nested;
    nested.type = GgufType::Array;
    nested.elem_type = GgufType::Array;
    GgufValue inner;
    inner.type = GgufType::Array;
    inner.elem_type = GgufType::String;
    inner.strings = {"x", "y"};
    inner.count = 2;
    nested.items = {inner, inner};
    nested.count = 2;
    w.set_value("test.nested", nested);
    w.add_tensor("a", DType::F32, {2, 3});
    w.add_tensor("b", DType::Q8_0, {1, 32});
    w.write_header();
    const float a[6] = {1, 2, 3, 4, 5, 6};
    w.write_tensor_data(a, sizeof a);
    uint8_t b[34] = {};
    w.write_tensor_data(b, sizeof b);
    w.finish();
}

std::string bytes_of(const fs::path& p) {
    return read_file(p);
}

std::string error_of(const fs::path& p) {
    try {
        GgufFile f(p.string());
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Gguf, WriterRoundTripsEveryValueType) {
    TempDir dir;
    write_sample(dir / "s.gguf");
    GgufFile f((dir / "s.gguf").string());
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_int("test.u32"), 7);
    EXPECT_EQ(f.get_int("test.i32"), -3);
    EXPECT_EQ(f.get_int("test.u64"), int64_t(1) << 40);
    EXPECT_EQ(f.get_float("test.f32"), 0.5);
    EXPECT_EQ(f.get_bool("test.bool"), true);
    EXPECT_EQ(f.get_strings("test.strings"), (std::vector<std::string>{"a", "bc", ""}));
    EXPECT_EQ(f.get_floats("test.floats"), (std::vector<float>{1.5f, -2.0f}));
    EXPECT_EQ(f.get_ints("test.ints"), (std::vector<int64_t>{1, 2, 3}));
    const GgufValue* n = f.find("test.nested");
    ASSERT_NE(n, nullptr);
    ASSERT_EQ(n->items.size(), 2u);
    EXPECT_EQ(n->items[1].strings, (std::vector<std::string>{"x", "y"}));
    ASSERT_EQ(f.tensors().size(), 2u);
    const TensorView* a = f.find_tensor("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(reinterpret_cast<const float*>(a->data)[5], 6.0f);
    EXPECT_EQ(f.find_tensor("b")->nbytes, 34u);
    EXPECT_EQ(size_t(f.find_tensor("b")->data - f.find_tensor("a")->data) % 32, 0u);
    EXPECT_THROW(f.get_string("test.u32"), Error);  // wrong type is an error, not a crash
}

TEST(Gguf, ReadsFixtureFile) {
    PANGOLIN_REQUIRE_SHARED();
    GgufFile f((fixture_models_dir() / "qwen2" / "model-q4_k_m.gguf").string());
    EXPECT_EQ(f.get_string("general.architecture"), "qwen2");
    EXPECT_EQ(f.get_int("qwen2.block_count"), 2);
    const TensorView* t = f.find_tensor("blk.0.ffn_down.weight");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{256, 768}));  // [out, in]
    EXPECT_EQ(t->type, DType::Q4_K);
    EXPECT_EQ(f.get_strings("tokenizer.ggml.tokens").size(), 1024u);
}

TEST(GgufBadInput, WrongMagic) {
    TempDir dir;
    write_sample(dir / "s.gguf");
    auto s = bytes_of(dir / "s.gguf");
    s[0] = 'X';
    write_file(dir / "bad.gguf", s);
    EXPECT_NE(error_of(dir / "bad.gguf").find("not a GGUF file"), std::string::npos);
}

TEST(GgufBadInput, WrongVersion) {
    TempDir dir;
    write_sample(dir / "s.gguf");
    for (uint32_t v : {1u, 4u, 999u}) {
        auto s = bytes_of(dir / "s.gguf");
        std::memcpy(s.data() + 4, &v, 4);
        write_file(dir / "bad.gguf", s);
        const auto err = error_of(dir / "bad.gguf");
        EXPECT_NE(err.find("version " + std::to_string(v) + " is not supported"), std::string::npos)
            << err;
    }
}

TEST(GgufBadInput, TruncatedAnywhere) {
    TempDir dir;
    write_sample(dir / "s.gguf");
    const auto s = bytes_of(dir / "s.gguf");
    // Cut inside the header, the metadata, the tensor infos and the tensor data.
    for (size_t cut : {size_t(0), size_t(3), size_t(10), size_t(30), s.size() / 3, s.size() / 2,
                       s.size() - 40, s.size() - 1}) {
        write_file(dir / "cut.gguf", s.substr(0, cut));
        const auto err = error_of(dir / "cut.gguf");
        EXPECT_FALSE(err.empty()) << "cut at " << cut << " was accepted";
        EXPECT_TRUE(err.find("truncated") != std::string::npos ||
                    err.find("not a GGUF") != std::string::npos ||
                    err.find("past the end") != std::string::npos)
            << err;
    }
}

TEST(GgufBadInput, TensorOffsetPastEnd) {
    TempDir dir;
    write_sample(dir / "s.gguf");
    auto s = bytes_of(dir / "s.gguf");
    // The offset of tensor "b" is the u64 after its name, dims and type in the tensor infos.
    const std::string key = std::string("\x01\0\0\0\0\0\0\0b", 9);
    const size_t at = s.rfind(key);
    ASSERT_NE(at, std::string::npos);
    const size_t offset_pos = at + key.size() + 4 + 2 * 8 + 4;
    const uint64_t far = 1 << 20;
    std::memcpy(s.data() + offset_pos, &far, 8);
    write_file(dir / "bad.gguf", s);
    const auto err = error_of(dir / "bad.gguf");
    EXPECT_NE(err.find("tensor 'b'"), std::string::npos) << err;
    EXPECT_NE(err.find("past the end"), std::string::npos) << err;
}

TEST(GgufBadInput, AbsurdCountsDoNotAllocate) {
    TempDir dir;
    std::string s = "GGUF";
    const uint32_t v = 3;
    const uint64_t n_tensors = 1ull << 60, n_kv = 1;
    s.append(reinterpret_cast<const char*>(&v), 4);
    s.append(reinterpret_cast<const char*>(&n_tensors), 8);
    s.append(reinterpret_cast<const char*>(&n_kv), 8);
    write_file(dir / "bad.gguf", s);
    EXPECT_NE(error_of(dir / "bad.gguf").find("cannot fit"), std::string::npos)
        << error_of(dir / "bad.gguf");
    // a string claiming 2^62 bytes
    std::string t = "GGUF";
    const uint64_t one = 1, zero = 0, huge = 1ull << 62;
    t.append(reinterpret_cast<const char*>(&v), 4);
    t.append(reinterpret_cast<const char*>(&zero), 8);
    t.append(reinterpret_cast<const char*>(&one), 8);
    t.append(reinterpret_cast<const char*>(&huge), 8);
    t.append(std::string(20, 'k'));
    write_file(dir / "bad2.gguf", t);
    EXPECT_NE(error_of(dir / "bad2.gguf").find("truncated"), std::string::npos);
}

TEST(GgufBadInput, UnsupportedTensorTypeNamed) {
    TempDir dir;
    write_sample(dir / "s.gguf");
    auto s = bytes_of(dir / "s.gguf");
    const std::string key = std::string("\x01\0\0\0\0\0\0\0a", 9);
    const size_t at = s.rfind(key);
    ASSERT_NE(at, std::string::npos);
    const uint32_t q5_k = 13;
    std::memcpy(s.data() + at + key.size() + 4 + 2 * 8, &q5_k, 4);
    write_file(dir / "bad.gguf", s);
    const auto err = error_of(dir / "bad.gguf");
    EXPECT_NE(err.find("Q5_K"), std::string::npos) << err;
}

TEST(GgufWriter, FailedWriteLeavesNoFile) {
    TempDir dir;
    {
        GgufWriter w((dir / "out.gguf").string());
        w.add_tensor("a", DType::F32, {4});
        w.write_header();
        // destroyed without finish(): simulates an error mid-way
    }
    EXPECT_FALSE(fs::exists(dir / "out.gguf"));
    EXPECT_FALSE(fs::exists(dir / "out.gguf.partial"));
    EXPECT_THROW(GgufWriter("/nonexistent-dir/x.gguf").write_header(), Error);
}
