// `pangolin tokenize` as users call it: ids on stdout, clear errors on stderr.
#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "support_vocab.h"

using namespace pangolin::test;

namespace {

CommandResult tokenize(std::vector<std::string> args) {
    args.insert(args.begin(), {pangolin_binary(), "tokenize"});
    return run_command(args);
}

}  // namespace

TEST(CliTokenize, GgufAndHfFolderGiveLlamaCppIds) {
    PANGOLIN_REQUIRE_SHARED();
    for (const auto& model : {kjv_dir() / "kjv-demo-q8_0.gguf", kjv_dir() / "hf"}) {
        const auto r = tokenize({"-m", model.string(), "In the beginning"});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, "1 1040 261 1899\n");
        const auto no_bos = tokenize({"-m", model.string(), "--no-bos", "In the beginning"});
        EXPECT_EQ(no_bos.out, "1040 261 1899\n");
    }
}

TEST(CliTokenize, FileBytesAreTokenizedExactly) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    // A vocabulary-only GGUF (no tensors); the text ends in newlines, which are part of it.
    write_file(dir / "in.txt", "\n\n\n");
    auto r = tokenize(
        {"-m", vocab_gguf("qwen2"), "--no-parse-special", "--file", (dir / "in.txt").string()});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "1406\n");
    write_file(dir / "chat.txt", "<|im_start|>user");
    r = tokenize({"-m", vocab_gguf("qwen2"), "--file", (dir / "chat.txt").string()});
    EXPECT_EQ(r.out, "151644 872\n");
    r = tokenize(
        {"-m", vocab_gguf("qwen2"), "--no-parse-special", "--file", (dir / "chat.txt").string()});
    EXPECT_EQ(r.out.rfind("27 91 ", 0), 0u) << r.out;  // "<", "|", …
}

TEST(CliTokenize, BadInputIsAClearError) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    write_file(dir / "bad.txt", "caf\xE9 latin-1");
    auto r = tokenize({"-m", vocab_gguf("qwen2"), "--file", (dir / "bad.txt").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("not valid UTF-8: byte 0xE9 at offset 3"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());

    r = tokenize({"-m", vocab_gguf("qwen2")});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("give the text as an argument or --file"), std::string::npos) << r.err;

    r = tokenize({"-m", vocab_gguf("qwen2"), "--file", (dir / "absent.txt").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("absent.txt: cannot be read"), std::string::npos) << r.err;

    write_file(dir / "tokenizer.json", "{\"model\": ");
    r = tokenize({"-m", dir.path().string(), "hi"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("tokenizer.json: not valid JSON"), std::string::npos) << r.err;

    r = tokenize({"-m", (fixture_models_dir() / "llama").string() + "/nothing.gguf", "hi"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
}
