# Writes a C++ file holding the bytes of a file, for the chat page compiled into the binary:
#   cmake -DIN=index.html -DOUT=web_index.cpp -DNAME=k_web_index -P embed.cmake
# It runs at build time from the file in the source tree, so nothing generated is committed.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}"
  "// Generated at build time from ${IN} by embed.cmake; do not edit.\n"
  "#include <cstddef>\n"
  "extern const unsigned char ${NAME}[] = {${bytes}0};\n"
  "extern const size_t ${NAME}_size = ${size};\n")
