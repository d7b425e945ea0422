// One place that configures RapidJSON for the package: assertions throw (a
// malformed document must never abort R) and strings stay UTF-8.
#pragma once

#include "errors.h"

#ifndef RAPIDJSON_HAS_CXX11_NOEXCEPT
#define RAPIDJSON_HAS_CXX11_NOEXCEPT 0
#endif
// RapidJSON's noexcept functions assert too; a throw there would terminate,
// and their invariants do not depend on the input, so they are not checked.
#ifndef RAPIDJSON_NOEXCEPT_ASSERT
#define RAPIDJSON_NOEXCEPT_ASSERT(x)
#endif
#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x)                                               \
  do {                                                                    \
    if (!(x)) throw ::ec5::Error("parse", "Unexpected JSON structure."); \
  } while (0)
#endif

// SSE2 is part of every x86-64 CPU: RapidJSON then scans strings and
// whitespace 16 bytes at a time when it parses in place.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <vector>

namespace ec5 {

// Iterative: a deeply nested document must not exhaust the C stack.
const unsigned kParseFlags = rapidjson::kParseFullPrecisionFlag |
                             rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag;

// The member `name` of an object, nullptr if absent or `object` is no object.
inline const rapidjson::Value* json_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

inline void throw_parse_error(const rapidjson::Document& doc, const char* what) {
  throw Error("parse", std::string("Invalid JSON in ") + what + " at byte " +
                           std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
}

// Parses `len` bytes into `doc`; throws ec5::Error("parse") naming the offset
// and RapidJSON's reason, and the `what` being parsed ("entries page", ...).
inline void parse_json(rapidjson::Document& doc, const char* data, size_t len,
                       const char* what) {
  doc.Parse<kParseFlags>(data, len);
  if (doc.HasParseError()) throw_parse_error(doc, what);
}

// As parse_json(), but in place in `buffer`, a copy of the bytes: the
// document's strings point into it instead of each being copied into the
// document's pool, and strings are scanned with SSE2. The buffer must outlive
// `doc`. Like parse_json(), parsing ends at a NUL byte.
// `data` copied into `buffer` for an in-situ parse, which writes into it.
// The SIMD scans load aligned 16-byte blocks, which may reach up to 15 bytes
// past the terminating NUL: those bytes must be ours.
inline char* insitu_buffer(std::vector<char>* buffer, const char* data, size_t len) {
  const size_t padding = 16;
  // Reserved first: assign() allocates exactly `len`, and the padding would
  // then move the whole page a second time.
  buffer->reserve(len + padding);
  buffer->assign(data, data + len);
  buffer->resize(len + padding, '\0');
  return buffer->data();
}

inline void parse_json_insitu(rapidjson::Document& doc, std::vector<char>* buffer,
                              const char* data, size_t len, const char* what) {
  doc.ParseInsitu<kParseFlags>(insitu_buffer(buffer, data, len));
  if (doc.HasParseError()) throw_parse_error(doc, what);
}

}  // namespace ec5
