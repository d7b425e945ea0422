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

// Assertions inside RapidJSON's noexcept functions (destructors) cannot
// throw; those only check RapidJSON's own invariants, so they are dropped.
#ifndef RAPIDJSON_NOEXCEPT_ASSERT
#define RAPIDJSON_NOEXCEPT_ASSERT(x) ((void)0)
#endif

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

namespace ec5 {

// Parses `len` bytes into `doc`; throws ec5::Error("parse") naming the offset
// and RapidJSON's reason, and the `what` being parsed ("entries page", ...).
inline void parse_json(rapidjson::Document& doc, const char* data, size_t len,
                       const char* what) {
  // Iterative: a deeply nested document must not exhaust the C stack.
  doc.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag |
            rapidjson::kParseIterativeFlag>(data, len);
  if (doc.HasParseError()) {
    throw Error("parse", std::string("Invalid JSON in ") + what + " at byte " +
                             std::to_string(doc.GetErrorOffset()) + ": " +
                             rapidjson::GetParseError_En(doc.GetParseError()));
  }
}

}  // namespace ec5
