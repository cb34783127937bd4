#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/safetensors.h"
#include "support/fixtures.h"

using namespace pangolin;
using namespace pangolin::test;
namespace fs = std::filesystem;

namespace {

void write_st(const fs::path& p, const nlohmann::json& header, const std::string& data) {
    const std::string h = header.dump();
    const uint64_t n = h.size();
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(h.data(), std::streamsize(h.size()));
    out.write(data.data(), std::streamsize(data.size()));
}

std::string error_of(const fs::path& folder) {
    try {
        SafetensorsSet s(folder.string());
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Safetensors, SingleFileAndDtypes) {
    TempDir dir;
    nlohmann::json h = {
        {"a", {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {0, 16}}}},
        {"b", {{"dtype", "BF16"}, {"shape", {3}}, {"data_offsets", {16, 22}}}},
        {"c", {{"dtype", "F8_E4M3"}, {"shape", {2}}, {"data_offsets", {22, 24}}}},
        {"d", {{"dtype", "F8_E8M0"}, {"shape", {1}}, {"data_offsets", {24, 25}}}},
        {"e", {{"dtype", "U8"}, {"shape", {1}}, {"data_offsets", {25, 26}}}},
        {"__metadata__", {{"format", "pt"}}},
    };
    write_st(dir / "model.safetensors", h, std::string(26, '\0'));
    SafetensorsSet s(dir.path().string());
    ASSERT_NE(s.find("a"), nullptr);
    EXPECT_EQ(s.find("a")->shape, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(s.find("b")->type, DType::BF16);
    EXPECT_EQ(s.find("c")->type, DType::F8_E4M3);
    EXPECT_EQ(s.find("d")->type, DType::E8M0);
    EXPECT_EQ(s.find("e")->type, DType::U8);
    EXPECT_EQ(s.all().size(), 5u);
}

TEST(Safetensors, ShardedIndex) {
    TempDir dir;
    write_st(dir / "m-1.safetensors",
             {{"x", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}}},
             std::string(4, '\0'));
    write_st(dir / "m-2.safetensors",
             {{"y", {{"dtype", "F16"}, {"shape", {2}}, {"data_offsets", {0, 4}}}}},
             std::string(4, '\0'));
    std::ofstream(dir / "model.safetensors.index.json") << nlohmann::json{
        {"weight_map",
         {{"x", "m-1.safetensors"}, {"y", "m-2.safetensors"}}}}.dump();
    SafetensorsSet s(dir.path().string());
    ASSERT_NE(s.find("x"), nullptr);
    ASSERT_NE(s.find("y"), nullptr);
    EXPECT_EQ(s.find("y")->type, DType::F16);
}

TEST(SafetensorsBadInput, HeaderLiesAboutShape) {
    TempDir dir;
    // shape [4, 4] of F32 is 64 bytes but the offsets span 16
    write_st(dir / "model.safetensors",
             {{"w", {{"dtype", "F32"}, {"shape", {4, 4}}, {"data_offsets", {0, 16}}}}},
             std::string(16, '\0'));
    const auto err = error_of(dir.path());
    EXPECT_NE(err.find("tensor 'w'"), std::string::npos) << err;
    EXPECT_NE(err.find("[4, 4]"), std::string::npos) << err;
}

TEST(SafetensorsBadInput, OffsetsPastEnd) {
    TempDir dir;
    write_st(dir / "model.safetensors",
             {{"w", {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {0, 16}}}}},
             std::string(8, '\0'));
    EXPECT_NE(error_of(dir.path()).find("outside the data section"), std::string::npos);
}

TEST(SafetensorsBadInput, CorruptHeader) {
    TempDir dir;
    {
        std::ofstream out(dir / "model.safetensors", std::ios::binary);
        const uint64_t n = 1000;
        out.write(reinterpret_cast<const char*>(&n), 8);
        out << "{\"a\":";
    }
    EXPECT_NE(error_of(dir.path()).find("header length"), std::string::npos);
    write_st(dir / "model.safetensors", nlohmann::json::array({1, 2}), "");
    EXPECT_NE(error_of(dir.path()).find("not a JSON object"), std::string::npos);
    write_st(dir / "model.safetensors",
             {{"w", {{"dtype", "Q7"}, {"shape", {1}}, {"data_offsets", {0, 1}}}}}, "x");
    EXPECT_NE(error_of(dir.path()).find("dtype Q7"), std::string::npos);
}

TEST(SafetensorsBadInput, MissingShard) {
    TempDir dir;
    std::ofstream(dir / "model.safetensors.index.json")
        << nlohmann::json{{"weight_map", {{"x", "gone.safetensors"}}}}.dump();
    EXPECT_NE(error_of(dir.path()).find("missing"), std::string::npos);
}
