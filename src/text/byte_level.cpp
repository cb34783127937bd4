#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace pangolin {

namespace {

struct ByteTables {
    std::array<std::string, 256> to_mapped;
    std::array<int16_t, 512> to_byte;  // mapped code points are all below U+0144

    ByteTables() {
        to_byte.fill(-1);
        uint32_t next = 256;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool printable =
                (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            const uint32_t cp = printable ? b : next++;
            utf8_append(to_mapped[b], cp);
            to_byte[cp] = static_cast<int16_t>(b);
        }
    }
};

const ByteTables& tables() {
    static const ByteTables t;
    return t;
}

}  // namespace

const std::string& byte_to_mapped(uint8_t b) {
    return tables().to_mapped[b];
}

void append_byte_mapped(std::string& out, std::string_view bytes) {
    const auto& t = tables();
    for (const char c : bytes) out += t.to_mapped[static_cast<uint8_t>(c)];
}

int mapped_to_byte(uint32_t cp) {
    return cp < 512 ? tables().to_byte[cp] : -1;
}

}  // namespace pangolin
