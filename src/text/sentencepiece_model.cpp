// A SentencePiece tokenizer.model read through libsentencepiece: pieces, scores and piece
// types the way llama.cpp's converter reads them, plus the normalizer's add_dummy_prefix,
// which the library's API does not expose and is read from the serialized model proto.
#include <sentencepiece_processor.h>

#include "core/error.h"
#include "text/vocab.h"

namespace pangolin {

namespace {

// Minimal protobuf wire-format reader over the serialized ModelProto.
struct ProtoReader {
    std::string_view data;
    size_t pos = 0;

    bool varint(uint64_t& out) {
        out = 0;
        for (int shift = 0; shift < 64 && pos < data.size(); shift += 7) {
            const auto b = static_cast<unsigned char>(data[pos++]);
            out |= uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80)) return true;
        }
        return false;
    }
    // Reads the next field; `bytes` is set for length-delimited ones, `value` for varints.
    bool next(uint32_t& field, uint32_t& wire, uint64_t& value, std::string_view& bytes) {
        uint64_t key = 0;
        if (pos >= data.size() || !varint(key)) return false;
        field = uint32_t(key >> 3);
        wire = uint32_t(key & 7);
        switch (wire) {
            case 0:
                return varint(value);
            case 1:
                pos += 8;
                return pos <= data.size();
            case 5:
                pos += 4;
                return pos <= data.size();
            case 2: {
                uint64_t len = 0;
                if (!varint(len) || len > data.size() - pos) return false;
                bytes = data.substr(pos, size_t(len));
                pos += size_t(len);
                return true;
            }
            default:
                return false;
        }
    }
};

// ModelProto.normalizer_spec (field 3) → NormalizerSpec.add_dummy_prefix (field 3, default true).
bool read_add_dummy_prefix(std::string_view model_proto) {
    ProtoReader top{model_proto};
    uint32_t field = 0, wire = 0;
    uint64_t value = 0;
    std::string_view bytes;
    while (top.next(field, wire, value, bytes)) {
        if (field != 3 || wire != 2) continue;
        ProtoReader spec{bytes};
        bool add = true;
        while (spec.next(field, wire, value, bytes))
            if (field == 3 && wire == 0) add = value != 0;
        return add;
    }
    return true;
}

}  // namespace

void load_sentencepiece_model(Vocab& v, const std::string& path) {
    sentencepiece::SentencePieceProcessor sp;
    const auto status = sp.Load(path);
    require(status.ok(), path, ": not a usable SentencePiece model: ", status.ToString());
    const int n = sp.GetPieceSize();
    require(n > 0, path, ": the SentencePiece model has no pieces");
    v.type = VocabType::Spm;
    v.pre_name = "sentencepiece";
    v.text.reserve(size_t(n));
    v.index.reserve(size_t(n));
    for (int id = 0; id < n; ++id) {
        // As llama.cpp's converter: user-defined pieces are not told apart from normal ones here.
        uint32_t attr = k_attr_normal;
        if (sp.IsUnknown(id))
            attr = k_attr_unknown;
        else if (sp.IsControl(id))
            attr = k_attr_control;
        else if (sp.IsUnused(id))
            attr = k_attr_unused;
        else if (sp.IsByte(id))
            attr = k_attr_byte;
        set_token(v, id, sp.IdToPiece(id), sp.GetScore(id), attr);
    }
    v.add_space_prefix = read_add_dummy_prefix(sp.serialized_model_proto());
    v.bos = sp.bos_id();
    v.eos = sp.eos_id();
    v.unk = sp.unk_id();
    v.pad = sp.pad_id();
    v.add_bos = true;
}

}  // namespace pangolin
