#include <array>
#include <string>
#include <string_view>

#include "column.h"
#include "table_layout.h"

namespace ec5 {

namespace {

// The member names of the parts, with their lengths.
constexpr std::array<std::string_view, kLocationParts.size()> kMembers = {
    kLocationParts[0].member, kLocationParts[1].member, kLocationParts[2].member,
    kLocationParts[3].member, kLocationParts[4].member, kLocationParts[5].member};

// Six columns from one object. Missing members (2019 exports have no UTM
// keys) and `""` members are NA; a blank location (`""`, null) is six NAs.
class LocationColumn final : public Column {
 public:
  LocationColumn(const std::string& name, Problems* problems) : Column(name, problems) {
    for (size_t k = 0; k < parts_.size(); ++k) {
      parts_[k] = make_column(location_part_spec(kLocationParts[k], name), problems);
    }
  }

  void append_json(const rapidjson::Value& v) override {
    if (!v.IsObject()) {
      if (!(v.IsNull() || (v.IsString() && v.GetStringLength() == 0))) {
        problem_json("location object", v);
      }
      return append_na();
    }
    std::array<const rapidjson::Value*, kLocationParts.size()> slot{};
    size_t position = 0;
    for (const auto& m : v.GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      // The server sends the parts in their order: the part at this
      // position is tried first (each key names at most one part).
      const size_t here = position++;
      if (here < kLocationParts.size() && key == kMembers[here]) {
        slot[here] = &m.value;
        continue;
      }
      for (size_t k = 0; k < kLocationParts.size(); ++k) {
        if (key == kMembers[k]) slot[k] = &m.value;
      }
    }
    for (size_t k = 0; k < parts_.size(); ++k) {
      if (slot[k]) {
        parts_[k]->append_json(*slot[k]);
      } else {
        parts_[k]->append_na();
      }
    }
  }
  void append_text(const char* p, size_t n) override {
    if (n > 0) problem_text("location object", p, n);
    append_na();
  }
  void append_na() override {
    for (auto& part : parts_) part->append_na();
  }
  void reserve(size_t n) override {
    for (auto& part : parts_) part->reserve(n);
  }
  size_t size() const override { return parts_[0]->size(); }
  void truncate(size_t n) override {
    for (auto& part : parts_) part->truncate(n);
  }
  size_t width() const override { return parts_.size(); }
  Column& part(size_t i) override { return *parts_.at(i); }
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    for (const auto& part : parts_) part->finish(keep, names, out);
  }

 private:
  std::array<std::unique_ptr<Column>, kLocationParts.size()> parts_;
};

}  // namespace

std::unique_ptr<Column> location_column(const std::string& name, Problems* problems) {
  return std::make_unique<LocationColumn>(name, problems);
}

}  // namespace ec5
