// UTF-8 validation and the streaming helpers (text/utf8.h).
#include <gtest/gtest.h>

#include "core/error.h"
#include "text/utf8.h"

using namespace pangolin;

TEST(Utf8, AcceptsWellFormedText) {
    for (const char* s : {"", "plain ASCII",
                          "Gr\xC3\xBC\xC3\x9F"
                          "e",
                          "\xE4\xB8\x96\xE7\x95\x8C", "\xF0\x9F\xA6\x99",
                          "\xF4\x8F\xBF\xBF" /* U+10FFFF */, "\xEF\xBF\xBD"})
        EXPECT_EQ(utf8_first_invalid(s), std::string_view::npos) << s;
}

TEST(Utf8, FindsTheFirstBadByte) {
    EXPECT_EQ(utf8_first_invalid("ab\xFF"
                                 "cd"),
              2u);
    EXPECT_EQ(utf8_first_invalid("\x80"), 0u);              // stray continuation byte
    EXPECT_EQ(utf8_first_invalid("x\xC0\x80"), 1u);         // overlong NUL
    EXPECT_EQ(utf8_first_invalid("\xE0\x80\xAF"), 0u);      // overlong '/'
    EXPECT_EQ(utf8_first_invalid("\xED\xA0\x80"), 0u);      // surrogate U+D800
    EXPECT_EQ(utf8_first_invalid("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
    EXPECT_EQ(utf8_first_invalid("ok\xE4\xB8"), 2u);        // truncated at the end
    EXPECT_EQ(utf8_first_invalid("\xE4"
                                 "a\xB8"),
              0u);  // broken by ASCII
}

TEST(Utf8, RequireNamesOffsetAndByte) {
    try {
        require_utf8("abc\xFE", "the prompt");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(
            std::string(e.what()).find("the prompt is not valid UTF-8: byte 0xFE at offset 3"),
            std::string::npos)
            << e.what();
    }
}

TEST(Utf8, IncompleteTailCountsOnlyCompletablePrefixes) {
    EXPECT_EQ(utf8_incomplete_tail("abc"), 0u);
    EXPECT_EQ(utf8_incomplete_tail("a\xE4"), 1u);
    EXPECT_EQ(utf8_incomplete_tail("a\xE4\xB8"), 2u);
    EXPECT_EQ(utf8_incomplete_tail("a\xE4\xB8\x96"), 0u);
    EXPECT_EQ(utf8_incomplete_tail("\xF0\x9F\xA6"), 3u);
    EXPECT_EQ(utf8_incomplete_tail("\xE4"
                                   "a"),
              0u);                                    // cannot be completed any more
    EXPECT_EQ(utf8_incomplete_tail("\xED\xA0"), 0u);  // would be a surrogate
    EXPECT_EQ(utf8_incomplete_tail("\xFF"), 0u);
}

TEST(Utf8, ReplacesEachIllFormedSubsequence) {
    EXPECT_EQ(utf8_replace_invalid("a\xFF"
                                   "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(utf8_replace_invalid("\xE4\xB8"
                                   "a"),
              "\xEF\xBF\xBD"
              "a");  // one U+FFFD for the broken prefix
    EXPECT_EQ(utf8_replace_invalid("\xF0\x9F\xA6\x99"), "\xF0\x9F\xA6\x99");
}

TEST(Utf8, EncodesCodePoints) {
    std::string s;
    for (uint32_t cp : {0x41u, 0xE9u, 0x4E16u, 0x1F999u}) utf8_append(s, cp);
    EXPECT_EQ(s, "A\xC3\xA9\xE4\xB8\x96\xF0\x9F\xA6\x99");
    EXPECT_EQ(utf8_decode_at(s, 6, 4), 0x1F999u);
}
