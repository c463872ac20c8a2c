// The subset of ONNX that axsa imports, read with the ONNX library (onnx::ModelProto, Debian's
// libonnx): external-data tensors loaded from the model's folder, the model passed through
// onnx::checker::check_model and shape inference, then copied into plain structs: nodes,
// attributes, FLOAT/INT32/INT64 tensors and ValueInfoProto's tensor types. Every failure is a
// config_error of one line naming the file: "FILE: corrupt ONNX (...)", the checker's reason, ...
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
  int type = attr_undefined;
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

// Reads, checks and converts the file. Throws config_error naming the file: missing file, bytes
// protobuf cannot decode, no graph, a model the ONNX checker or shape inference rejects, duplicate
// initializers, tensors of other data types or whose values do not fill their dims, external data
// outside the model's folder or past the end of its file.
model read_model(const std::string& path);

// The same from bytes in memory; `source` names them in error messages, external-data locations
// are relative to `model_dir` (none allowed when it is empty).
model parse_model(const std::uint8_t* data, std::size_t size, const std::string& source,
                  const std::string& model_dir = "");

}  // namespace axsa::sw::onnx
