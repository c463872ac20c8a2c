// The subset of ONNX that axsa imports, decoded straight from the protobuf wire format (no
// protobuf or onnx library): ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto
// (FLOAT, INT32, INT64) and ValueInfoProto's tensor types. Unknown fields are skipped; every read
// is bounds-checked, so a truncated or corrupt file is a config_error "FILE: corrupt ONNX (...)".
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace axsa::sw::onnx {

// TensorProto.DataType values axsa reads.
enum data_type : int { float32 = 1, int32 = 6, int64 = 7 };

// AttributeProto.AttributeType values.
enum attribute_type : int {
  attr_undefined = 0,
  attr_float = 1,
  attr_int = 2,
  attr_string = 3,
  attr_tensor = 4,
  attr_graph = 5,
  attr_floats = 6,
  attr_ints = 7,
  attr_strings = 8,
};

struct tensor {
  std::string name;
  int data_type = 0;
  std::vector<std::int64_t> dims;
  std::vector<float> floats;       // FLOAT
  std::vector<std::int64_t> ints;  // INT64, and INT32 widened

  std::size_t element_count() const;  // product of dims (1 for a scalar)
};

struct attribute {
  std::string name;
  int type = attr_undefined;  // inferred from the fields present when the file leaves it out
  float f = 0;
  std::int64_t i = 0;
  std::string s;
  tensor t;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
};

struct node {
  std::string name, op_type, domain;
  std::vector<std::string> inputs, outputs;
  std::vector<attribute> attributes;

  const attribute* find(const std::string& attribute_name) const;  // nullptr if absent
};

struct value_info {
  std::string name;
  int elem_type = 0;
  std::vector<std::int64_t> dims;  // -1 for a symbolic (dim_param) or unknown dimension
};

struct model {
  std::int64_t ir_version = 0;
  std::int64_t opset = 0;  // version of the default ("" or "ai.onnx") domain; 0 if not imported
  std::string graph_name;
  std::vector<node> nodes;
  std::map<std::string, tensor> initializers;
  std::vector<value_info> inputs, outputs;  // inputs that are also initializers are dropped
  std::vector<value_info> value_infos;
};

// Reads and decodes the file. Throws config_error naming the file: missing file, corrupt wire
// data, no graph, duplicate initializers, tensors of other data types or external data.
model read_model(const std::string& path);

// The same from bytes in memory; `source` names them in error messages.
model parse_model(const std::uint8_t* data, std::size_t size, const std::string& source);

}  // namespace axsa::sw::onnx
