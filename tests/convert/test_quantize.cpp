// `pangolin quantize` against llama-quantize's files in ../shared/fixtures (made from the same
// model-f32.gguf): the same type for every tensor, the same bytes for Q8_0 / Q4_0 / MXFP4, and
// K-quants no farther from the F32 weights.
#include <gtest/gtest.h>

#include "convert/convert.h"
#include "convert/gguf_compare.h"
#include "support/model_eval.h"

using namespace pangolin;
using namespace pangolin::test;
namespace fs = std::filesystem;

namespace {

struct QuantCase {
    std::string fixture, type, file;
};
void PrintTo(const QuantCase& q, std::ostream* os) {
    *os << q.fixture << " " << q.type;
}

class QuantizeFixture : public ::testing::TestWithParam<QuantCase> {};

std::string quantize_fixture(const TempDir& tmp, const QuantCase& q) {
    const auto out = (tmp / "out.gguf").string();
    QuantizeOptions o;
    o.file_type = *parse_file_type(q.type);
    o.threads = 2;
    quantize_gguf((fixture_models_dir() / q.fixture / "model-f32.gguf").string(), out, o);
    return out;
}

const nlohmann::json& case_for(const fs::path& dir, const std::string& model) {
    static nlohmann::json expected;
    expected = read_json(dir / "expected.json");
    for (const auto& c : expected["cases"])
        if (c["model"] == model) return c;
    throw std::runtime_error("no case for " + model);
}

// Max relative L2 distance of a model's logits to the fixture's F32 reference logits.
double rel_to_f32_logits(const std::string& fixture, const std::string& model) {
    const auto dir = fixture_models_dir() / fixture;
    const auto& c = case_for(dir, "model-f32.gguf");
    const auto prompt = c["prompt"].get<std::vector<int32_t>>();
    const auto ref = read_f32(dir / c["logits"].get<std::string>());
    const auto r = evaluate_model(model, prompt, 0);
    return max_rel_l2(r.logits.data(), ref.data(), int64_t(prompt.size()), r.n_vocab);
}

}  // namespace

// Every tensor has llama-quantize's type, in its order, with the same bytes; the metadata
// keys are the same (general.file_type, general.quantization_version included).
TEST_P(QuantizeFixture, SameTypesAndBytesAsLlamaQuantize) {
    PANGOLIN_REQUIRE_SHARED();
    const QuantCase& q = GetParam();
    const auto dir = fixture_models_dir() / q.fixture;
    TempDir tmp;
    const GgufFile ours(quantize_fixture(tmp, q)), ref((dir / q.file).string());
    EXPECT_EQ(metadata_keys(ours), metadata_keys(ref));
    for (const auto& [key, value] : ref.metadata())
        EXPECT_TRUE(ours.find(key) && same_value(*ours.find(key), value)) << key;
    ASSERT_EQ(ours.tensors().size(), ref.tensors().size());
    for (size_t i = 0; i < ref.tensors().size(); ++i) {
        const TensorView &a = ours.tensors()[i], &b = ref.tensors()[i];
        EXPECT_EQ(a.name, b.name);
        EXPECT_EQ(a.type, b.type) << b.name << ": " << dtype_name(a.type) << " vs "
                                  << dtype_name(b.type);
        ASSERT_EQ(a.nbytes, b.nbytes) << b.name;
        EXPECT_EQ(0, std::memcmp(a.data, b.data, a.nbytes))
            << b.name << " (" << dtype_name(b.type) << "): bytes differ";
    }
}

INSTANTIATE_TEST_SUITE_P(ByteExact, QuantizeFixture,
                         ::testing::Values(QuantCase{"qwen2", "Q8_0", "model-q8_0.gguf"},
                                           QuantCase{"qwen2", "Q4_0", "model-q4_0.gguf"},
                                           QuantCase{"qwen3moe", "Q8_0", "model-q8_0.gguf"},
                                           QuantCase{"qwen3moe", "MXFP4_MOE",
                                                     "model-mxfp4_moe.gguf"}),
                         [](const auto& p) { return p.param.fixture + "_" + p.param.type; });

// K-quants: same types; per tensor, the relative L2 distance to the F32 weights is at most
// llama-quantize's; and the file's logits meet the fixture's tolerance for its case.
class KQuantFixture : public ::testing::TestWithParam<QuantCase> {};

TEST_P(KQuantFixture, NoFartherFromF32ThanLlamaQuantize) {
    PANGOLIN_REQUIRE_SHARED();
    const QuantCase& q = GetParam();
    const auto dir = fixture_models_dir() / q.fixture;
    TempDir tmp;
    const auto out = quantize_fixture(tmp, q);
    const GgufFile ours(out), ref((dir / q.file).string()), f32((dir / "model-f32.gguf").string());
    ASSERT_EQ(ours.tensors().size(), ref.tensors().size());
    double worst_ratio = 0;
    for (const TensorView& b : ref.tensors()) {
        const TensorView* a = ours.find_tensor(b.name);
        ASSERT_NE(a, nullptr) << b.name;
        EXPECT_EQ(a->type, b.type) << b.name;
        if (b.type == DType::F32) continue;
        const auto exact = dequantized(*f32.find_tensor(b.name));
        const double e_ours = tensor_rel_l2(dequantized(*a), exact),
                     e_ref = tensor_rel_l2(dequantized(b), exact);
        EXPECT_LE(e_ours, e_ref) << b.name << " (" << dtype_name(b.type) << ")";
        worst_ratio = std::max(worst_ratio, e_ours / e_ref);
    }
    ::testing::Test::RecordProperty("worst_rel_l2_ratio_vs_llama_quantize",
                                    std::to_string(worst_ratio));
    check_fixture_case(case_for(dir, q.file), dir, out, false);
}

INSTANTIATE_TEST_SUITE_P(KQuants, KQuantFixture,
                         ::testing::Values(QuantCase{"qwen2", "Q4_K_M", "model-q4_k_m.gguf"},
                                           QuantCase{"qwen2", "Q6_K", "model-q6_k.gguf"}),
                         [](const auto& p) { return p.param.fixture + "_" + p.param.type; });

// F16 and BF16 files: llama-quantize's types (1-D tensors stay F32) and bytes.
TEST(Quantize, HalfPrecisionLikeLlamaQuantize) {
    PANGOLIN_REQUIRE_SHARED();
    for (const QuantCase& q : {QuantCase{"qwen2", "F16", "model-f16.gguf"},
                               QuantCase{"qwen2", "BF16", "model-bf16.gguf"}}) {
        TempDir tmp;
        const GgufFile ours(quantize_fixture(tmp, q)),
            ref((fixture_models_dir() / q.fixture / q.file).string());
        for (const TensorView& b : ref.tensors()) {
            const TensorView* a = ours.find_tensor(b.name);
            ASSERT_NE(a, nullptr) << b.name;
            EXPECT_EQ(a->type, b.type) << b.name;
            EXPECT_EQ(0, std::memcmp(a->data, b.data, b.nbytes)) << q.type << " " << b.name;
        }
    }
}

// Quantizing the MLA fixture: attn_k_b rows of 16 values fit no 32-value block, so they fall
// back to F16 (as llama-quantize's fallback does); the model still runs. (The random-weight
// fixtures are sensitive: llama.cpp's own Q8_0 logits are 0.026-0.04 from F32, its MXFP4 0.18;
// no llama.cpp file exists for this one, so the bound is a sanity bound.)
TEST(Quantize, DeepseekWithFallbacksRuns) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    const auto out = quantize_fixture(tmp, {"deepseek-v3", "Q8_0", ""});
    const GgufFile g(out);
    EXPECT_EQ(g.find_tensor("blk.0.attn_k_b.weight")->type, DType::F16);
    EXPECT_EQ(g.find_tensor("blk.0.attn_v_b.weight")->type, DType::Q8_0);
    EXPECT_EQ(g.find_tensor("blk.1.ffn_gate_exps.weight")->type, DType::Q8_0);
    EXPECT_EQ(g.find_tensor("blk.1.exp_probs_b.bias")->type, DType::F32);
    EXPECT_LE(rel_to_f32_logits("deepseek-v3", out), 0.3);
}

// FP8 from an F32 file, and back to Q8_0 from that FP8 file (sanity bounds: three mantissa
// bits sit between Q8_0 and MXFP4, whose llama.cpp logits are 0.026 and 0.18 from F32 here).
TEST(Quantize, Fp8RoundTrip) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    const auto fp8 = quantize_fixture(tmp, {"qwen3moe", "FP8", ""});
    const GgufFile g(fp8);
    EXPECT_EQ(g.find_tensor("blk.0.attn_q.weight")->type, DType::F8_E4M3);
    EXPECT_EQ(g.find_tensor("blk.0.ffn_down_exps.weight")->type, DType::F8_E4M3);
    EXPECT_EQ(g.find_tensor("blk.0.ffn_down_exps.block_scale")->shape,
              (std::vector<int64_t>{16, 1, 1}));
    EXPECT_EQ(g.find_tensor("output.weight")->type, DType::BF16);
    const double fp8_err = rel_to_f32_logits("qwen3moe", fp8);
    EXPECT_LE(fp8_err, 0.18);
    ::testing::Test::RecordProperty("fp8_rel_l2", std::to_string(fp8_err));

    QuantizeOptions o;
    o.file_type = *parse_file_type("Q8_0");
    const auto q8 = (tmp / "q8.gguf").string();
    quantize_gguf(fp8, q8, o);
    const GgufFile g8(q8);
    EXPECT_EQ(g8.find_tensor("blk.0.ffn_down_exps.weight")->type, DType::Q8_0);
    EXPECT_EQ(g8.find(k_gguf_fp8_block_key), nullptr);
    EXPECT_EQ(g8.get_int("general.file_type"), 7);
    EXPECT_LE(rel_to_f32_logits("qwen3moe", q8), 0.18);
}

// Rows are quantized independently: the file does not depend on the thread count.
TEST(Quantize, ThreadCountDoesNotChangeTheFile) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir tmp;
    std::string files[2];
    for (int i = 0; i < 2; ++i) {
        QuantizeOptions o;
        o.file_type = *parse_file_type("Q4_K_M");
        o.threads = i == 0 ? 1 : 3;
        files[i] = (tmp / ("t" + std::to_string(o.threads) + ".gguf")).string();
        quantize_gguf((fixture_models_dir() / "qwen3moe" / "model-f32.gguf").string(), files[i], o);
    }
    EXPECT_EQ(read_file(files[0]), read_file(files[1]));
}
