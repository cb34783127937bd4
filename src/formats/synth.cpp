#include "formats/synth.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

#include "core/blocks.h"
#include "core/error.h"
#include "core/fp.h"
#include "core/log.h"
#include "core/quant_ref.h"
#include "core/thread_pool.h"
#include "formats/gguf_writer.h"

namespace pangolin {

namespace {

SynthShape qwen2_shape(std::string name, int64_t vocab, int64_t embd, int64_t layers, int64_t heads,
                       int64_t kv, int64_t ff, int64_t ctx, double theta, bool tied) {
    SynthShape s;
    s.name = std::move(name);
    s.arch = "qwen2";
    s.tokenizer = "gpt2";
    s.pre = "qwen2";
    s.n_vocab = vocab, s.n_embd = embd, s.n_layer = layers, s.n_head = heads, s.n_head_kv = kv;
    s.head_dim = embd / heads, s.n_ff = ff, s.n_ctx = ctx, s.rope_theta = theta, s.norm_eps = 1e-6;
    s.tied = tied, s.qkv_bias = true;
    s.bos = 151643, s.eos = 151643;
    return s;
}

std::vector<SynthShape> make_shapes() {
    std::vector<SynthShape> v;
    // Qwen2.5-0.5B: tied embeddings, GQA 14/2, head_dim 64
    v.push_back(qwen2_shape("qwen2.5-0.5b", 151936, 896, 24, 14, 2, 4864, 32768, 1e6, true));
    // DeepSeek-R1-Distill-Qwen-1.5B / 7B (Qwen2.5-Math bases)
    v.push_back(
        qwen2_shape("r1-distill-qwen-1.5b", 151936, 1536, 28, 12, 2, 8960, 131072, 1e4, false));
    v.push_back(
        qwen2_shape("r1-distill-qwen-7b", 152064, 3584, 28, 28, 4, 18944, 131072, 1e4, false));
    {
        // openPangu-Embedded-7B: biases on q, k, v and o; SentencePiece vocabulary
        SynthShape s;
        s.name = "openpangu-embedded-7b";
        s.arch = "pangu-embedded";
        s.tokenizer = "llama";
        s.pre = "default";
        s.n_vocab = 153376, s.n_embd = 4096, s.n_layer = 34, s.n_head = 32, s.n_head_kv = 8,
        s.head_dim = 128;
        s.n_ff = 12800, s.n_ctx = 32768, s.rope_theta = 1.6e7, s.norm_eps = 1e-5;
        s.qkv_bias = true, s.o_bias = true;
        s.bos = 1, s.eos = 45892;
        v.push_back(s);
    }
    {
        // Qwen3-30B-A3B: 128 experts of width 768, 8 per token; q/k RMSNorm
        SynthShape s;
        s.name = "qwen3-30b-a3b";
        s.arch = "qwen3moe";
        s.tokenizer = "gpt2";
        s.pre = "qwen2";
        s.n_vocab = 151936, s.n_embd = 2048, s.n_layer = 48, s.n_head = 32, s.n_head_kv = 4,
        s.head_dim = 128;
        s.n_ff = 6144, s.n_ctx = 40960, s.rope_theta = 1e6, s.norm_eps = 1e-6, s.qk_norm = true;
        s.n_expert = 128, s.n_expert_used = 8, s.n_ff_expert = 768;
        s.bos = 151643, s.eos = 151645;
        v.push_back(s);
        s.name = "qwen3-30b-a3b-8l";  // the first 8 layers: 5.6B parameters, 11 GB in F16
        s.n_layer = 8;
        v.push_back(s);
    }
    {
        // DeepSeek-V2-Lite: MLA without q compression, 64 experts (6 per token) + 2 shared,
        // one leading dense layer, softmax routing, YaRN ×40
        SynthShape s;
        s.name = "deepseek-v2-lite";
        s.arch = "deepseek2";
        s.tokenizer = "gpt2";
        s.pre = "deepseek-llm";
        s.n_vocab = 102400, s.n_embd = 2048, s.n_layer = 27, s.n_head = 16, s.n_head_kv = 16;
        s.n_ff = 10944, s.n_ctx = 163840, s.rope_theta = 1e4, s.norm_eps = 1e-6;
        s.kv_lora = 512, s.qk_nope = 128, s.qk_rope = 64, s.v_head = 128;
        s.head_dim = s.qk_nope + s.qk_rope;
        s.n_expert = 64, s.n_expert_used = 6, s.n_ff_expert = 1408, s.n_shared = 2,
        s.n_ff_shared = 2 * 1408;
        s.n_dense_lead = 1, s.gating = 1;
        s.yarn_factor = 40, s.yarn_orig_ctx = 4096, s.yarn_log_mul = 0.0707;
        s.bos = 100000, s.eos = 100001;
        v.push_back(s);
    }
    {
        // Pangu Pro MoE (72B-A16B): 64 experts in 8 groups, one per group; a shared expert
        // of width 5376; per-expert router scale; q/k/v/o biases
        SynthShape s;
        s.name = "pangu-pro-moe";
        s.arch = "pangu-pro-moe";
        s.tokenizer = "llama";
        s.pre = "default";
        s.n_vocab = 153376, s.n_embd = 5120, s.n_layer = 48, s.n_head = 40, s.n_head_kv = 8,
        s.head_dim = 128;
        s.n_ctx = 131072, s.rope_theta = 1.6e7, s.norm_eps = 1e-5, s.qkv_bias = true,
        s.o_bias = true;
        s.n_expert = 64, s.n_expert_used = 8, s.n_ff_expert = 1344, s.n_shared = 1,
        s.n_ff_shared = 5376;
        s.n_expert_group = 8, s.n_group_used = 8, s.router_scale = true;
        s.bos = 1, s.eos = 45892;
        v.push_back(s);
    }
    return v;
}

// ---------------------------------------------------------------------------------------
// Tensors

enum class Init { Normal, Ones };

struct Spec {
    std::string name;
    std::vector<int64_t> shape;  // outermost first
    DType type;
    Init init;
};

std::vector<Spec> tensor_specs(const SynthShape& s, int64_t n_layer, DType mat) {
    std::vector<Spec> t;
    auto matrix = [&](const std::string& name, std::vector<int64_t> shape) {
        // rows that the block type cannot hold fall back to F16 (as llama-quantize does)
        const DType type = shape.back() % dtype_block_elems(mat) == 0 ? mat : DType::F16;
        t.push_back({name, std::move(shape), type, Init::Normal});
    };
    auto norm = [&](const std::string& name, int64_t n) {
        t.push_back({name, {n}, DType::F32, Init::Ones});
    };
    auto bias = [&](const std::string& name, int64_t n) {
        t.push_back({name, {n}, DType::F32, Init::Normal});
    };

    matrix("token_embd.weight", {s.n_vocab, s.n_embd});
    for (int64_t i = 0; i < n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        norm(p + "attn_norm.weight", s.n_embd);
        if (s.kv_lora > 0) {
            const int64_t qk = s.qk_nope + s.qk_rope;
            if (s.q_lora > 0) {
                matrix(p + "attn_q_a.weight", {s.q_lora, s.n_embd});
                norm(p + "attn_q_a_norm.weight", s.q_lora);
                matrix(p + "attn_q_b.weight", {s.n_head * qk, s.q_lora});
            } else {
                matrix(p + "attn_q.weight", {s.n_head * qk, s.n_embd});
            }
            matrix(p + "attn_kv_a_mqa.weight", {s.kv_lora + s.qk_rope, s.n_embd});
            norm(p + "attn_kv_a_norm.weight", s.kv_lora);
            matrix(p + "attn_k_b.weight", {s.n_head, s.kv_lora, s.qk_nope});
            matrix(p + "attn_v_b.weight", {s.n_head, s.v_head, s.kv_lora});
            matrix(p + "attn_output.weight", {s.n_embd, s.n_head * s.v_head});
        } else {
            const int64_t q = s.n_head * s.head_dim, kv = s.n_head_kv * s.head_dim;
            matrix(p + "attn_q.weight", {q, s.n_embd});
            matrix(p + "attn_k.weight", {kv, s.n_embd});
            matrix(p + "attn_v.weight", {kv, s.n_embd});
            matrix(p + "attn_output.weight", {s.n_embd, q});
            if (s.qkv_bias) {
                bias(p + "attn_q.bias", q);
                bias(p + "attn_k.bias", kv);
                bias(p + "attn_v.bias", kv);
            }
            if (s.o_bias) bias(p + "attn_output.bias", s.n_embd);
            if (s.qk_norm) {
                norm(p + "attn_q_norm.weight", s.head_dim);
                norm(p + "attn_k_norm.weight", s.head_dim);
            }
        }
        norm(p + "ffn_norm.weight", s.n_embd);
        if (s.n_expert == 0 || i < s.n_dense_lead) {
            matrix(p + "ffn_gate.weight", {s.n_ff, s.n_embd});
            matrix(p + "ffn_up.weight", {s.n_ff, s.n_embd});
            matrix(p + "ffn_down.weight", {s.n_embd, s.n_ff});
            continue;
        }
        // the router stays F32, as llama.cpp's converter and quantizer keep it
        t.push_back({p + "ffn_gate_inp.weight", {s.n_expert, s.n_embd}, DType::F32, Init::Normal});
        if (s.router_scale) norm(p + "ffn_gate_inp_scale.weight", s.n_expert);
        matrix(p + "ffn_gate_exps.weight", {s.n_expert, s.n_ff_expert, s.n_embd});
        matrix(p + "ffn_up_exps.weight", {s.n_expert, s.n_ff_expert, s.n_embd});
        matrix(p + "ffn_down_exps.weight", {s.n_expert, s.n_embd, s.n_ff_expert});
        if (s.n_shared > 0) {
            matrix(p + "ffn_gate_shexp.weight", {s.n_ff_shared, s.n_embd});
            matrix(p + "ffn_up_shexp.weight", {s.n_ff_shared, s.n_embd});
            matrix(p + "ffn_down_shexp.weight", {s.n_embd, s.n_ff_shared});
        }
    }
    norm("output_norm.weight", s.n_embd);
    if (!s.tied) matrix("output.weight", {s.n_vocab, s.n_embd});
    return t;
}

// ---------------------------------------------------------------------------------------
// Metadata and tokenizer

uint32_t file_type(DType t) {
    switch (t) {
        case DType::F32:
            return 0;
        case DType::F16:
            return 1;
        case DType::Q4_0:
            return 2;
        case DType::Q8_0:
            return 7;
        case DType::Q5_0:
            return 8;
        case DType::BF16:
            return 32;
        default:
            return 0;
    }
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

// GPT-2's byte → printable character map (bytes_to_unicode).
std::vector<std::string> byte_level_chars() {
    std::vector<uint32_t> cp(256, 0);
    std::vector<bool> direct(256, false);
    for (int b = '!'; b <= '~'; ++b) direct[size_t(b)] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) direct[size_t(b)] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) direct[size_t(b)] = true;
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) cp[size_t(b)] = direct[size_t(b)] ? uint32_t(b) : next++;
    std::vector<std::string> out(256);
    for (int b = 0; b < 256; ++b) append_utf8(out[size_t(b)], cp[size_t(b)]);
    return out;
}

void write_tokenizer(GgufWriter& g, const SynthShape& s) {
    const int64_t n = s.n_vocab;
    const int64_t eos = s.eos >= 0 ? s.eos : n - 1, bos = s.bos >= 0 ? s.bos : n - 2;
    std::vector<std::string> tokens;
    std::vector<int32_t> types;  // 1 normal, 2 unknown, 3 control, 6 byte
    tokens.reserve(size_t(n));
    if (s.tokenizer == "gpt2") {
        const auto chars = byte_level_chars();
        for (const auto& c : chars) tokens.push_back(c), types.push_back(1);
        std::vector<std::string> merges;
        const std::string space = chars[' '];
        for (char a = 'a'; a <= 'z'; ++a) {
            merges.push_back(space + " " + std::string(1, a));
            tokens.push_back(space + std::string(1, a)), types.push_back(1);
            for (char b = 'a'; b <= 'z'; ++b) {
                merges.push_back(std::string(1, a) + " " + std::string(1, b));
                tokens.push_back(std::string(1, a) + std::string(1, b)), types.push_back(1);
            }
        }
        while (int64_t(tokens.size()) < n)
            tokens.push_back("[SYN" + std::to_string(tokens.size()) + "]"), types.push_back(1);
        g.set_string("tokenizer.ggml.model", "gpt2");
        g.set_string("tokenizer.ggml.pre", s.pre);
        tokens.resize(size_t(n)), types.resize(size_t(n));
        tokens[size_t(eos)] = "<|endoftext|>", types[size_t(eos)] = 3;
        if (bos != eos) tokens[size_t(bos)] = "<|begin_of_text|>", types[size_t(bos)] = 3;
        g.set_strings("tokenizer.ggml.tokens", tokens);
        g.set_i32s("tokenizer.ggml.token_type", types);
        g.set_strings("tokenizer.ggml.merges", merges);
        g.set_bool("tokenizer.ggml.add_bos_token", false);
    } else {
        // SentencePiece: <unk>, control tokens, the 256 byte tokens, then pieces
        std::vector<float> scores;
        tokens = {"<unk>", "<s>", "</s>"};
        types = {2, 3, 3};
        for (int b = 0; b < 256; ++b) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "<0x%02X>", b);
            tokens.push_back(buf), types.push_back(6);
        }
        while (int64_t(tokens.size()) < n)
            tokens.push_back("\xE2\x96\x81w" + std::to_string(tokens.size())), types.push_back(1);
        tokens.resize(size_t(n)), types.resize(size_t(n));
        if (eos > 2) tokens[size_t(eos)] = "<|synth_eos|>", types[size_t(eos)] = 3;
        scores.resize(size_t(n));
        for (int64_t i = 0; i < n; ++i) scores[size_t(i)] = -float(i);
        g.set_string("tokenizer.ggml.model", "llama");
        g.set_string("tokenizer.ggml.pre", "default");
        g.set_strings("tokenizer.ggml.tokens", tokens);
        g.set_f32s("tokenizer.ggml.scores", scores);
        g.set_i32s("tokenizer.ggml.token_type", types);
        g.set_bool("tokenizer.ggml.add_bos_token", true);
    }
    g.set_u32("tokenizer.ggml.bos_token_id", uint32_t(bos));
    g.set_u32("tokenizer.ggml.eos_token_id", uint32_t(eos));
}

void write_metadata(GgufWriter& g, const SynthShape& s, int64_t n_layer, DType mat) {
    const std::string p = s.arch + ".";
    g.set_string("general.architecture", s.arch);
    g.set_string("general.name", "synth-" + s.name);
    g.set_u32("general.file_type", file_type(mat));
    if (dtype_traits(mat).quantized) g.set_u32("general.quantization_version", 2);
    g.set_u32(p + "context_length", uint32_t(s.n_ctx));
    g.set_u32(p + "embedding_length", uint32_t(s.n_embd));
    g.set_u32(p + "block_count", uint32_t(n_layer));
    if (s.n_ff > 0) g.set_u32(p + "feed_forward_length", uint32_t(s.n_ff));
    g.set_u32(p + "attention.head_count", uint32_t(s.n_head));
    g.set_f32(p + "rope.freq_base", float(s.rope_theta));
    g.set_f32(p + "attention.layer_norm_rms_epsilon", float(s.norm_eps));
    g.set_u32(p + "vocab_size", uint32_t(s.n_vocab));
    if (s.kv_lora > 0) {
        // llama.cpp's MLA convention: one shared latent "head" of kv_lora + rope values
        g.set_u32(p + "attention.head_count_kv", 1);
        if (s.q_lora > 0) g.set_u32(p + "attention.q_lora_rank", uint32_t(s.q_lora));
        g.set_u32(p + "attention.kv_lora_rank", uint32_t(s.kv_lora));
        g.set_u32(p + "attention.key_length", uint32_t(s.kv_lora + s.qk_rope));
        g.set_u32(p + "attention.value_length", uint32_t(s.kv_lora));
        g.set_u32(p + "attention.key_length_mla", uint32_t(s.qk_nope + s.qk_rope));
        g.set_u32(p + "attention.value_length_mla", uint32_t(s.v_head));
        g.set_u32(p + "rope.dimension_count", uint32_t(s.qk_rope));
    } else {
        g.set_u32(p + "attention.head_count_kv", uint32_t(s.n_head_kv));
        if (s.head_dim * s.n_head != s.n_embd || s.qk_norm) {
            g.set_u32(p + "attention.key_length", uint32_t(s.head_dim));
            g.set_u32(p + "attention.value_length", uint32_t(s.head_dim));
        }
    }
    if (s.yarn_factor > 0) {
        g.set_string(p + "rope.scaling.type", "yarn");
        g.set_f32(p + "rope.scaling.factor", float(s.yarn_factor));
        g.set_u32(p + "rope.scaling.original_context_length", uint32_t(s.yarn_orig_ctx));
        g.set_f32(p + "rope.scaling.yarn_log_multiplier", float(s.yarn_log_mul));
    }
    if (s.n_expert > 0) {
        g.set_u32(p + "expert_count", uint32_t(s.n_expert));
        g.set_u32(p + "expert_used_count", uint32_t(s.n_expert_used));
        g.set_u32(p + "expert_feed_forward_length", uint32_t(s.n_ff_expert));
        if (s.n_dense_lead > 0)
            g.set_u32(p + "leading_dense_block_count", uint32_t(s.n_dense_lead));
        if (s.n_shared > 0) {
            g.set_u32(p + "expert_shared_count", uint32_t(s.n_shared));
            if (s.n_ff_shared != s.n_shared * s.n_ff_expert)
                g.set_u32(p + "expert_shared_feed_forward_length", uint32_t(s.n_ff_shared));
        }
        if (s.n_expert_group > 0) {
            g.set_u32(p + "expert_group_count", uint32_t(s.n_expert_group));
            g.set_u32(p + "expert_group_used_count", uint32_t(s.n_group_used));
        }
        if (s.gating > 0) {
            g.set_u32(p + "expert_gating_func", uint32_t(s.gating));
            g.set_f32(p + "expert_weights_scale", 1.0f);
            g.set_bool(p + "expert_weights_norm", false);
        }
    }
    write_tokenizer(g, s);
}

// ---------------------------------------------------------------------------------------
// Values: a counter-based generator, so every value depends only on (seed, tensor, index)
// and the file is the same whatever the thread count.

inline uint64_t splitmix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Approximately N(0, 1): the sum of four uniform 16-bit draws, centred and scaled
// (Irwin–Hall; exact mean and variance, tails cut at ±3.46).
inline float normal(uint64_t key) {
    const uint64_t r = splitmix(key);
    const float s =
        float(r & 0xffff) + float((r >> 16) & 0xffff) + float((r >> 32) & 0xffff) + float(r >> 48);
    return (s / 65536.0f - 2.0f) * 1.7320508f;
}

void fill_row(const Spec& t, uint64_t key, int64_t row, int64_t cols, float stddev, float* out) {
    if (t.init == Init::Ones) {
        std::fill(out, out + cols, 1.0f);
        return;
    }
    const uint64_t base = key + uint64_t(row) * uint64_t(cols);
    for (int64_t c = 0; c < cols; ++c) out[c] = stddev * normal(base + uint64_t(c));
}

void encode_row(DType type, const float* x, int64_t n, uint8_t* out) {
    switch (type) {
        case DType::F32:
            std::memcpy(out, x, size_t(n) * 4);
            return;
        case DType::F16:
            for (int64_t i = 0; i < n; ++i) reinterpret_cast<uint16_t*>(out)[i] = f32_to_f16(x[i]);
            return;
        case DType::BF16:
            for (int64_t i = 0; i < n; ++i) reinterpret_cast<uint16_t*>(out)[i] = f32_to_bf16(x[i]);
            return;
        case DType::Q8_0:
            quantize_row_q8_0_ref(x, reinterpret_cast<BlockQ8_0*>(out), n);
            return;
        case DType::Q4_0:
            quantize_row_q4_0_ref(x, reinterpret_cast<BlockQ4_0*>(out), n);
            return;
        case DType::Q5_0:
            quantize_row_q5_0_ref(x, reinterpret_cast<BlockQ5_0*>(out), n);
            return;
        default:
            fail("synth cannot write ", dtype_name(type), " tensors");
    }
}

}  // namespace

const std::vector<SynthShape>& synth_shapes() {
    static const std::vector<SynthShape> shapes = make_shapes();
    return shapes;
}

const SynthShape* find_synth_shape(const std::string& name) {
    for (const auto& s : synth_shapes())
        if (s.name == name) return &s;
    return nullptr;
}

int64_t synth_param_count(const SynthShape& shape, int64_t n_layer) {
    int64_t n = 0;
    for (const auto& t : tensor_specs(shape, n_layer > 0 ? n_layer : shape.n_layer, DType::F32)) {
        int64_t e = 1;
        for (auto d : t.shape) e *= d;
        n += e;
    }
    return n;
}

void write_synth_gguf(const SynthShape& shape, const SynthOptions& o, const std::string& path) {
    switch (o.type) {
        case DType::F32:
        case DType::F16:
        case DType::BF16:
        case DType::Q8_0:
        case DType::Q4_0:
        case DType::Q5_0:
            break;
        default:
            fail("synth writes F32, F16, BF16, Q8_0, Q4_0 or Q5_0 weights, not ",
                 dtype_name(o.type), " (make an F16 file and convert it with llama-quantize)");
    }
    const int64_t n_layer = o.n_layer > 0 ? o.n_layer : shape.n_layer;
    require(shape.n_dense_lead < n_layer || shape.n_expert == 0, "shape ", shape.name,
            " needs more than ", shape.n_dense_lead, " layers");
    const auto specs = tensor_specs(shape, n_layer, o.type);

    GgufWriter g(path);
    write_metadata(g, shape, n_layer, o.type);
    for (const auto& t : specs) g.add_tensor(t.name, t.type, t.shape);
    g.write_header();

    ThreadPool pool(o.n_threads > 0 ? o.n_threads : ThreadPool::default_threads());
    Progress progress("synth " + shape.name, g.total_tensor_bytes(), "B");
    std::vector<uint8_t> chunk;
    for (size_t ti = 0; ti < specs.size(); ++ti) {
        const Spec& t = specs[ti];
        const int64_t cols = t.shape.back();
        int64_t rows = 1;
        for (size_t d = 0; d + 1 < t.shape.size(); ++d) rows *= t.shape[d];
        const size_t row_bytes = dtype_row_bytes(t.type, cols);
        const uint64_t key = splitmix(o.seed) ^ (uint64_t(ti + 1) << 44);
        // ~32 MB of output per chunk, generated in parallel, written in order
        const int64_t chunk_rows = std::max<int64_t>(1, int64_t((32u << 20) / row_bytes));
        for (int64_t r0 = 0; r0 < rows; r0 += chunk_rows) {
            const int64_t nr = std::min(chunk_rows, rows - r0);
            chunk.resize(size_t(nr) * row_bytes);
            pool.parallel_for(nr, [&](int64_t b, int64_t e, int) {
                std::vector<float> buf(static_cast<size_t>(cols));
                for (int64_t r = b; r < e; ++r) {
                    fill_row(t, key, r0 + r, cols, o.stddev, buf.data());
                    encode_row(t.type, buf.data(), cols, chunk.data() + size_t(r) * row_bytes);
                }
            });
            g.write_tensor_data(chunk.data(), chunk.size());
            progress.advance(chunk.size());
        }
    }
    g.finish();
    progress.finish();
}

}  // namespace pangolin
