// Writes a configuration as YAML through the same field list that reads it (trainer/config.cpp),
// so the written file names every field and reads back to the same values.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config_reader.h"

namespace gs::config_detail {

// Mirrors SectionReader's interface; ranges and allowed values are ignored when writing.
class SectionWriter {
 public:
  explicit SectionWriter(YAML::Emitter& out) : out_(&out) {}

  void field(const char* key, int& value, IntRange) {
    *out_ << YAML::Key << key << YAML::Value << value;
  }
  void field(const char* key, int64_t& value, IntRange) {
    *out_ << YAML::Key << key << YAML::Value << value;
  }
  void field(const char* key, uint64_t& value) {
    *out_ << YAML::Key << key << YAML::Value << value;
  }
  // Shortest exact decimal, so reading back gives the same double.
  void field(const char* key, double& value, RealRange) {
    *out_ << YAML::Key << key << YAML::Value << format_number(value);
  }
  void field(const char* key, bool& value) {
    *out_ << YAML::Key << key << YAML::Value << YAML::TrueFalseBool << value;
  }
  // Quoted, so text such as "yes", "123" or "" stays text when read back.
  void field(const char* key, std::string& value) {
    *out_ << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << value;
  }
  void choice(const char* key, std::string& value, const std::vector<std::string>&) {
    *out_ << YAML::Key << key << YAML::Value << value;
  }
  template <class E>
  void choice(const char* key, E& value, const std::vector<std::pair<const char*, E>>& names) {
    for (const auto& [name, e] : names)
      if (e == value) *out_ << YAML::Key << key << YAML::Value << name;
  }

  template <class Fn>
  void section(const char* key, Fn write) {
    *out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    write(*this);
    *out_ << YAML::EndMap;
  }

  template <class T, class Fn>
  void named_sections(const char* key, std::vector<T>& items, Fn write) {
    *out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    for (T& item : items) {
      *out_ << YAML::Key << item.name << YAML::Value << YAML::BeginMap;
      write(*this, item);
      *out_ << YAML::EndMap;
    }
    *out_ << YAML::EndMap;
  }

  void finish() {}

 private:
  YAML::Emitter* out_;
};

}  // namespace gs::config_detail
