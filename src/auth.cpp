// The OAuth client-credentials exchange (API-NOTES.md §8): the request body and
// the reading of the token response. Neither ever puts the secret or the
// token into an error message.
#include <Rcpp.h>

#include <cmath>
#include <string>

#include "glue.h"
#include "json.h"
#include "r_list.h"

namespace {

// Checked and converted before any C++ object with a destructor exists.
const char* single_string(SEXP x, const char* what) {
  if (TYPEOF(x) != STRSXP || Rf_xlength(x) != 1 || STRING_ELT(x, 0) == NA_STRING) {
    throw ec5::Error("argument", std::string("`") + what + "` must be a single string.");
  }
  return ec5::utf8_chars(STRING_ELT(x, 0));
}

}  // namespace

// The JSON body of the token request, as raw bytes.
// [[Rcpp::export(rng = false)]]
SEXP auth_token_body_cpp(SEXP client_id, SEXP client_secret) {
  EC5_BEGIN
  const char* id_chars = single_string(client_id, "client_id");
  const char* secret_chars = single_string(client_secret, "client_secret");
  const std::string id = id_chars;
  const std::string secret = secret_chars;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("grant_type");
  writer.String("client_credentials");
  writer.Key("client_id");
  writer.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  writer.Key("client_secret");
  writer.String(secret.data(), static_cast<rapidjson::SizeType>(secret.size()));
  writer.EndObject();
  Rcpp::RawVector out(buffer.GetSize());
  std::copy(buffer.GetString(), buffer.GetString() + buffer.GetSize(), out.begin());
  return out;
  EC5_END
}

// Reads a 200 token response into list(access_token, token_type, expires_in).
// [[Rcpp::export(rng = false)]]
SEXP auth_token_parse_cpp(SEXP body) {
  EC5_BEGIN
  if (TYPEOF(body) != RAWSXP) throw ec5::Error("argument", "`body` must be a raw vector.");
  rapidjson::Document doc;
  doc.Parse<ec5::kParseFlags>(reinterpret_cast<const char*>(RAW(body)), Rf_xlength(body));
  // The body may hold a token: report what is wrong, never what is there.
  if (doc.HasParseError() || !doc.IsObject()) {
    throw ec5::Error("parse", "The token response is not a JSON object.");
  }
  const auto token = doc.FindMember("access_token");
  if (token == doc.MemberEnd() || !token->value.IsString() ||
      token->value.GetStringLength() == 0) {
    throw ec5::Error("parse", "The token response has no `access_token`.");
  }
  // The token goes into a request header: a space or control character in it
  // would split or inject headers.
  const char* chars = token->value.GetString();
  for (rapidjson::SizeType i = 0; i < token->value.GetStringLength(); ++i) {
    const unsigned char c = static_cast<unsigned char>(chars[i]);
    if (c < 0x21 || c > 0x7e) {
      throw ec5::Error("parse", "The token response holds an `access_token` that is not printable ASCII.");
    }
  }
  const auto type = doc.FindMember("token_type");
  std::string token_type = "Bearer";
  if (type != doc.MemberEnd() && type->value.IsString()) token_type = type->value.GetString();
  const auto expires = doc.FindMember("expires_in");
  double expires_in = NAN;
  if (expires != doc.MemberEnd() && expires->value.IsNumber()) {
    expires_in = expires->value.GetDouble();
  } else if (expires != doc.MemberEnd() && expires->value.IsString()) {
    expires_in = std::atof(expires->value.GetString());
  }
  if (!(expires_in > 0)) {
    throw ec5::Error("parse", "The token response has no positive `expires_in`.");
  }
  return Rcpp::List::create(
      Rcpp::Named("access_token") =
          Rcpp::String(std::string(token->value.GetString(), token->value.GetStringLength())),
      Rcpp::Named("token_type") = token_type, Rcpp::Named("expires_in") = expires_in);
  EC5_END
}
