#include "sw/network.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "hw/array_config.h"
#include "sw/onnx_reader.h"

namespace axsa::sw {
namespace {

constexpr const char* supported_ops =
    "Conv, Gemm, MatMul, Add, Relu, MaxPool, AveragePool, Flatten, Reshape, Softmax";
// Bounds on sizes from the file, far above any real model, so shape arithmetic can never overflow.
constexpr std::int64_t max_extent = 1 << 16;
constexpr std::size_t max_activation = std::size_t{1} << 28;

// "[?, 1, 28, 28]": shapes of values, where -1 is a symbolic dimension (raw = false), or
// "[0, -1]": the numbers of a shape operand (raw = true).
std::string dims_text(const std::vector<std::int64_t>& dims, bool raw = false) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += dims[i] < 0 && !raw ? std::string("?") : std::to_string(dims[i]);
  }
  return s + "]";
}

// Builds the layer chain from the decoded graph, one node at a time along the single data path.
class importer {
 public:
  importer(const onnx::model& m, const std::string& path) : m_model(m), m_path(path) {}

  network run() {
    m_net.source = m_path;
    read_graph_io();
    collect_constants();
    walk_graph();
    check_every_node_used();
    check_output_shapes();
    return std::move(m_net);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw config_error(m_path + ": " + what); }

  [[noreturn]] void fail(std::size_t node_index, const std::string& what) const {
    const onnx::node& n = m_model.nodes[node_index];
    fail("node '" + display_name(node_index) + "' (" + n.op_type + ") " + what);
  }

  std::string display_name(std::size_t node_index) const {
    const onnx::node& n = m_model.nodes[node_index];
    return n.name.empty() ? n.op_type + "#" + std::to_string(node_index) : n.name;
  }

  void read_graph_io() {
    auto names = [](const std::vector<onnx::value_info>& v) {
      std::string s;
      for (const auto& i : v) s += (s.empty() ? "'" : ", '") + i.name + "'";
      return s;
    };
    if (m_model.inputs.size() != 1) {
      fail("the graph has " + std::to_string(m_model.inputs.size()) + " inputs (" + names(m_model.inputs) +
           ") that are not initializers; axsa needs exactly one (the image)");
    }
    if (m_model.outputs.empty()) fail("the graph has no outputs; axsa needs at least one (the classes)");
    const onnx::value_info& in = m_model.inputs[0];
    if (in.elem_type != onnx::float32) {
      fail("graph input '" + in.name + "' has element type " + std::to_string(in.elem_type) + ", expected FLOAT (1)");
    }
    const auto& d = in.dims;
    auto known = [](std::int64_t v) { return v > 0 && v <= max_extent; };
    if (d.size() == 4 && known(d[1]) && known(d[2]) && known(d[3]) && d[0] != 0) {
      m_shape = {static_cast<unsigned>(d[1]), static_cast<unsigned>(d[2]), static_cast<unsigned>(d[3])};
      m_flat = false;
    } else if (d.size() == 2 && known(d[1]) && d[0] != 0) {
      m_shape = {static_cast<unsigned>(d[1]), 1, 1};
      m_flat = true;
    } else {
      fail("graph input '" + in.name + "' has shape " + dims_text(d) +
           "; axsa needs [batch, C, H, W] with known C, H, W (or [batch, features]); batch may be symbolic");
    }
    if (m_shape.size() > max_activation) fail("graph input '" + in.name + "' is too large: " + dims_text(d));
    m_net.input = m_shape;
  }

  void collect_constants() {
    for (std::size_t i = 0; i < m_model.nodes.size(); ++i) {
      const onnx::node& n = m_model.nodes[i];
      if (n.op_type != "Constant" || !is_default_domain(n)) continue;
      const onnx::attribute* value = n.find("value");
      if (value == nullptr || value->type != onnx::attr_tensor || n.attributes.size() != 1 || n.outputs.size() != 1) {
        fail(i, "is supported only with a single tensor attribute 'value' and one output");
      }
      m_constants[n.outputs[0]] = value->t;
    }
  }

  static bool is_default_domain(const onnx::node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

  const onnx::tensor* constant(const std::string& name) const {
    if (name.empty()) return nullptr;
    const auto init = m_model.initializers.find(name);
    if (init != m_model.initializers.end()) return &init->second;
    const auto c = m_constants.find(name);
    return c == m_constants.end() ? nullptr : &c->second;
  }

  // A branch off the trunk waiting to be walked as an exit head.
  struct side_branch {
    std::string tensor, producer;  // where it leaves the trunk
    std::size_t user = 0;          // the head's first node
    std::size_t branch = 0;        // trunk layers before it
    tensor_shape shape;
    bool flat = false;
  };

  std::string users_text(const std::vector<std::size_t>& users) const {
    std::string list;
    for (const std::size_t u : users) list += (list.empty() ? "'" : ", '") + display_name(u) + "'";
    return list;
  }

  const std::vector<std::size_t>& users_of(const std::string& tensor) const {
    static const std::vector<std::size_t> none;
    const auto it = m_consumers.find(tensor);
    return it == m_consumers.end() ? none : it->second;
  }

  bool is_output(const std::string& tensor) const { return m_output_index.count(tensor) != 0; }

  // Graph outputs reachable from a tensor, one bit per output.
  std::uint64_t reach_of(const std::string& tensor) const {
    std::uint64_t r = 0;
    const auto o = m_output_index.find(tensor);
    if (o != m_output_index.end()) r |= std::uint64_t{1} << o->second;
    for (const std::size_t u : users_of(tensor)) r |= m_reach[u];
    return r;
  }

  void index_graph() {
    for (std::size_t i = 0; i < m_model.nodes.size(); ++i) {
      for (const std::string& in : m_model.nodes[i].inputs) {
        if (!in.empty()) m_consumers[in].push_back(i);
      }
    }
    if (m_model.outputs.size() > 64) {
      fail("the graph has " + std::to_string(m_model.outputs.size()) + " outputs; axsa supports at most 64 exits");
    }
    for (std::size_t o = 0; o < m_model.outputs.size(); ++o) {
      const std::string& name = m_model.outputs[o].name;
      if (!m_output_index.emplace(name, o).second) fail("graph output '" + name + "' is listed twice");
    }
    order_nodes();
  }

  // Depth-first over the nodes (an edge from a node to every consumer of its outputs): fails on a
  // cycle, and fills m_reach in reverse topological order.
  void order_nodes() {
    const std::size_t n = m_model.nodes.size();
    enum : unsigned char { unseen, open, done };
    std::vector<unsigned char> state(n, unseen);
    m_reach.assign(n, 0);
    struct frame {
      std::size_t node, output = 0, user = 0;
    };
    for (std::size_t root = 0; root < n; ++root) {
      if (state[root] != unseen) continue;
      std::vector<frame> stack{{root}};
      state[root] = open;
      while (!stack.empty()) {
        frame& f = stack.back();
        const onnx::node& node = m_model.nodes[f.node];
        bool descended = false;
        // `descended` first: pushing a frame may move the stack, and then `f` must not be read again.
        while (!descended && f.output < node.outputs.size()) {
          const std::vector<std::size_t>& users = users_of(node.outputs[f.output]);
          if (f.user >= users.size()) {
            ++f.output;
            f.user = 0;
            continue;
          }
          const std::size_t next = users[f.user++];
          if (state[next] == open) {
            fail(next, "is on a cycle (it consumes, through '" + display_name(f.node) +
                           "', its own output); axsa needs an acyclic graph");
          }
          if (state[next] == unseen) {
            state[next] = open;
            stack.push_back({next});
            descended = true;
          }
        }
        if (descended) continue;
        // All consumers are finished: the outputs this node reaches are known.
        std::uint64_t r = 0;
        for (const std::string& out : node.outputs) {
          if (!out.empty()) r |= reach_of(out);
        }
        m_reach[f.node] = r;
        state[f.node] = done;
        stack.pop_back();
      }
    }
  }

  void walk_graph() {
    index_graph();
    m_used.assign(m_model.nodes.size(), false);
    // Exits are exported shallowest first: the last graph output is the final exit, the end of the
    // trunk. (A head can be longer than the trunk's remaining layers, so depth cannot tell.)
    const std::size_t target = m_model.outputs.size() - 1;
    m_net.output = m_model.outputs[target].name;
    std::vector<side_branch> branches;
    walk_trunk(target, branches);
    const tensor_shape trunk_shape = m_shape;
    const bool trunk_flat = m_flat;
    for (const side_branch& b : branches) {
      exit_head head;
      head.branch = b.branch;
      m_shape = b.shape;
      m_flat = b.flat;
      m_pending_bias = false;
      m_target = &head.layers;
      head.output = walk_head(b);
      if (m_shape != trunk_shape || !trunk_flat || !m_flat) {
        fail("exit '" + head.output + "' (its head ends in node '" + head.layers.back().name + "') produces " +
             to_string(m_shape) + " values per image; an exit must produce a class vector like the final exit '" +
             m_net.output + "' (" + to_string(trunk_shape) + ")");
      }
      m_net.exits.push_back(std::move(head));
    }
    m_target = &m_net.layers;
    m_shape = trunk_shape;
    m_flat = trunk_flat;
    std::stable_sort(m_net.exits.begin(), m_net.exits.end(),
                     [](const exit_head& a, const exit_head& b) { return a.branch < b.branch; });
    std::set<std::string> reached{m_net.output};
    for (const exit_head& e : m_net.exits) reached.insert(e.output);
    for (const onnx::value_info& out : m_model.outputs) {
      if (reached.count(out.name) == 0) {
        fail("graph output '" + out.name + "' is not reached by any exit head branching off the trunk from '" +
             m_model.inputs[0].name + "' to '" + m_net.output + "'");
      }
    }
  }

  // The chain from the graph input to the final output; every other consumer of a trunk tensor
  // starts an exit head.
  void walk_trunk(std::size_t target, std::vector<side_branch>& branches) {
    const std::string& output = m_model.outputs[target].name;
    const std::uint64_t bit = std::uint64_t{1} << target;
    const bool single = m_model.outputs.size() == 1;
    std::string current = m_model.inputs[0].name;
    std::string producer = "the graph input";
    m_target = &m_net.layers;
    while (current != output) {
      if (is_output(current)) {
        fail("graph output '" + current + "' (from " + producer +
             ") lies on the trunk; every exit needs layers of its own, branching off the trunk and ending in a class vector");
      }
      const std::vector<std::size_t>& users = users_of(current);
      if (users.empty()) {
        fail("tensor '" + current + "' (from " + producer + ") feeds no node and is not the graph output '" + output +
             "'; axsa needs a chain of layers from the input to " + (single ? "the output" : "the deepest output"));
      }
      std::vector<std::size_t> onward;
      for (const std::size_t u : users)
        if (m_reach[u] & bit) onward.push_back(u);
      if (onward.size() > 1) {
        fail("the graph branches and merges again: tensor '" + current + "' (from " + producer + ") feeds " +
             std::to_string(users.size()) + " nodes (" + users_text(users) + ") of which " + users_text(onward) +
             " all lead to output '" + output + "'; axsa supports exit heads branching off one trunk, not paths that join");
      }
      if (onward.empty() && users.size() == 1) {
        onward = users;  // a chain that ends short of the output: reported where it ends
      } else if (onward.empty()) {
        fail("tensor '" + current + "' (from " + producer + ") feeds " + users_text(users) +
             " but none of them leads to the graph output '" + output + "'");
      }
      for (const std::size_t u : users) {
        if (u == onward[0]) continue;
        if (m_pending_bias) {
          fail(u, "branches off between a MatMul and its bias Add ('" + current +
                      "'); an exit head must branch off a layer's complete output");
        }
        branches.push_back({current, producer, u, m_net.layers.size(), m_shape, m_flat});
      }
      const std::size_t index = onward[0];
      if (m_used[index]) fail(index, "is reached twice: the graph has a cycle");
      m_used[index] = true;
      const onnx::node& n = m_model.nodes[index];
      check_outputs(index);
      import_node(index, current);
      current = n.outputs[0];
      producer = "node '" + display_name(index) + "'";
    }
    if (m_net.layers.empty()) fail("the graph input is the graph output: no layers to import");
  }

  // An exit head: a single chain from its branch point to a graph output. Returns that output.
  std::string walk_head(const side_branch& b) {
    std::string current = b.tensor;
    std::size_t index = b.user;
    while (true) {
      if (m_used[index]) fail(index, "is reached twice: the graph has a cycle or paths that join");
      m_used[index] = true;
      const onnx::node& n = m_model.nodes[index];
      check_outputs(index);
      import_node(index, current);
      current = n.outputs[0];
      const std::string producer = "node '" + display_name(index) + "'";
      const std::vector<std::size_t>& users = users_of(current);
      if (is_output(current)) {
        if (!users.empty()) {
          fail("exit output '" + current + "' (from " + producer + ") also feeds " + users_text(users) +
               "; an exit's output must not feed other layers");
        }
        return current;
      }
      if (users.empty()) {
        fail("tensor '" + current + "' (from " + producer +
             ") feeds no node and is not a graph output: a dangling exit head (it branches off the trunk at '" +
             b.tensor + "')");
      }
      if (users.size() > 1) {
        fail("the exit head branching off at '" + b.tensor + "' branches again: tensor '" + current + "' (from " +
             producer + ") feeds " + std::to_string(users.size()) + " nodes (" + users_text(users) +
             "); an exit head must be a single chain");
      }
      index = users[0];
    }
  }

  // Extra outputs (MaxPool's Indices) are fine only while nothing reads them.
  void check_outputs(std::size_t index) const {
    const onnx::node& n = m_model.nodes[index];
    if (n.outputs.empty() || n.outputs[0].empty()) fail(index, "has no output");
    for (std::size_t o = 1; o < n.outputs.size(); ++o) {
      if (!n.outputs[o].empty() && (!users_of(n.outputs[o]).empty() || is_output(n.outputs[o]))) {
        fail(index, "has a second output '" + n.outputs[o] +
                        "' that is used; axsa supports only layers with one output");
      }
    }
  }

  void check_every_node_used() const {
    for (std::size_t i = 0; i < m_model.nodes.size(); ++i) {
      if (m_used[i]) continue;
      const onnx::node& n = m_model.nodes[i];
      if (n.op_type == "Constant" && is_default_domain(n) && m_used_constants.count(n.outputs[0]) != 0) continue;
      fail(i, "is not on the chain from input '" + m_model.inputs[0].name + "' to output '" + m_net.output +
                  "' nor on an exit head branching off it");
    }
  }

  void check_output_shapes() const {
    for (const onnx::value_info& out : m_model.outputs) {
      const std::vector<layer>* chain = &m_net.layers;
      for (const exit_head& e : m_net.exits)
        if (e.output == out.name) chain = &e.layers;
      check_output_shape(out, chain->back().out);
    }
  }

  void check_output_shape(const onnx::value_info& out, const tensor_shape& produced) const {
    if (out.dims.size() < 2) return;  // unknown or scalar: nothing to compare
    std::size_t product = 1;
    for (std::size_t i = 1; i < out.dims.size(); ++i) {
      if (out.dims[i] < 0) return;
      product *= static_cast<std::size_t>(out.dims[i]);
    }
    if (product != produced.size()) {
      fail("graph output '" + out.name + "' is declared " + dims_text(out.dims) + " but the layers produce " +
           to_string(produced) + " values per image");
    }
  }

  void import_node(std::size_t index, const std::string& current) {
    const onnx::node& n = m_model.nodes[index];
    const std::string& op = n.op_type;
    static const std::set<std::string> supported = {"Conv",    "Gemm",    "MatMul",  "Add",     "Relu",
                                                    "MaxPool", "AveragePool", "Flatten", "Reshape", "Softmax"};
    if (!is_default_domain(n) || supported.count(op) == 0) {
      fail("node '" + display_name(index) + "' uses op " + (is_default_domain(n) ? op : n.domain + "." + op) +
           ", which axsa does not support (supported: " + supported_ops + ")");
    }
    if (op == "Add") {
      import_bias_add(index, current);
      return;
    }
    m_pending_bias = false;
    if (n.inputs.empty() || n.inputs[0] != current) {
      fail(index, "takes '" + current + "' as a later input; axsa expects the layer's data as its first input");
    }
    if (op == "Conv") {
      import_conv(index);
    } else if (op == "Gemm") {
      import_gemm(index);
    } else if (op == "MatMul") {
      import_matmul(index);
    } else if (op == "Relu") {
      check_attributes(index, {});
      check_input_count(index, 1, 1);
      push(index, layer_kind::relu, m_shape);
    } else if (op == "MaxPool" || op == "AveragePool") {
      import_pool(index, op == "MaxPool");
    } else if (op == "Flatten") {
      import_flatten(index);
    } else if (op == "Reshape") {
      import_reshape(index);
    } else {
      import_softmax(index);
    }
  }

  layer& push(std::size_t index, layer_kind kind, tensor_shape out) {
    if (out.size() == 0 || out.size() > max_activation) {
      fail(index, "produces an output of " + to_string(out) + ", expected a non-empty activation");
    }
    layer l;
    l.kind = kind;
    l.name = display_name(index);
    l.in = m_shape;
    l.out = out;
    m_target->push_back(std::move(l));
    m_shape = out;
    return m_target->back();
  }

  void check_input_count(std::size_t index, std::size_t min, std::size_t max) const {
    const auto& in = m_model.nodes[index].inputs;
    std::size_t count = in.size();
    while (count > min && in[count - 1].empty()) --count;  // trailing optional inputs left empty
    if (count < min || count > max) {
      fail(index, "has " + std::to_string(in.size()) + " inputs, expected " +
                      (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max)));
    }
  }

  void check_attributes(std::size_t index, const std::set<std::string>& allowed) const {
    for (const onnx::attribute& a : m_model.nodes[index].attributes) {
      if (allowed.count(a.name) == 0) fail(index, "has attribute '" + a.name + "', which axsa does not support");
    }
  }

  const onnx::attribute* typed(std::size_t index, const char* name, int type, const char* type_name) const {
    const onnx::attribute* a = m_model.nodes[index].find(name);
    if (a != nullptr && a->type != type) {
      fail(index, "attribute '" + std::string(name) + "' has type " + std::to_string(a->type) + ", expected " + type_name);
    }
    return a;
  }

  std::int64_t attr_int(std::size_t index, const char* name, std::int64_t fallback) const {
    const onnx::attribute* a = typed(index, name, onnx::attr_int, "INT");
    return a ? a->i : fallback;
  }

  float attr_float(std::size_t index, const char* name, float fallback) const {
    const onnx::attribute* a = typed(index, name, onnx::attr_float, "FLOAT");
    return a ? a->f : fallback;
  }

  std::string attr_string(std::size_t index, const char* name, const std::string& fallback) const {
    const onnx::attribute* a = typed(index, name, onnx::attr_string, "STRING");
    return a ? a->s : fallback;
  }

  std::vector<std::int64_t> attr_ints(std::size_t index, const char* name, std::vector<std::int64_t> fallback,
                                      std::size_t count) const {
    const onnx::attribute* a = typed(index, name, onnx::attr_ints, "INTS");
    std::vector<std::int64_t> v = a ? a->ints : std::move(fallback);
    if (v.size() != count) {
      fail(index, "attribute '" + std::string(name) + "' has " + std::to_string(v.size()) + " values, expected " +
                      std::to_string(count) + " (axsa supports 2-D windows only)");
    }
    return v;
  }

  void require_int(std::size_t index, const char* name, std::int64_t value, std::int64_t expected,
                   const char* why) const {
    if (value != expected) {
      fail(index, "has " + std::string(name) + " = " + std::to_string(value) + "; axsa supports only " +
                      std::to_string(expected) + " " + why);
    }
  }

  const onnx::tensor& float_constant(std::size_t index, std::size_t slot, const char* role) {
    const onnx::node& n = m_model.nodes[index];
    const onnx::tensor* t = slot < n.inputs.size() ? constant(n.inputs[slot]) : nullptr;
    if (t == nullptr) {
      fail(index, "input " + std::to_string(slot) + " (" + role + ") '" + (slot < n.inputs.size() ? n.inputs[slot] : "") +
                      "' must be an initializer (a constant), but it is not");
    }
    if (t->data_type != onnx::float32) {
      fail(index, "input " + std::string(role) + " '" + t->name + "' has data type " + std::to_string(t->data_type) +
                      ", expected FLOAT");
    }
    // A NaN or infinity would survive quantisation as a saturated or zero scale and give an
    // accuracy that means nothing; no trained model has one.
    for (std::size_t i = 0; i < t->floats.size(); ++i) {
      if (!std::isfinite(t->floats[i])) {
        fail(index, "input " + std::string(role) + " '" + t->name + "' has a non-finite value (" +
                        std::to_string(t->floats[i]) + ") at element " + std::to_string(i));
      }
    }
    mark_constant_used(n.inputs[slot]);
    return *t;
  }

  void mark_constant_used(const std::string& name) { m_used_constants.insert(name); }

  bool has_input(std::size_t index, std::size_t slot) const {
    const auto& in = m_model.nodes[index].inputs;
    return slot < in.size() && !in[slot].empty();
  }

  // Bias of `out` values: absent (zeros), or a constant of [out] or [1, out] values.
  std::vector<float> bias_vector(std::size_t index, std::size_t slot, std::size_t out) {
    if (!has_input(index, slot)) return std::vector<float>(out, 0.0f);
    const onnx::tensor& b = float_constant(index, slot, "bias");
    const bool shape_ok = b.floats.size() == out &&
                          (b.dims.size() == 1 || (b.dims.size() == 2 && b.dims[0] == 1));
    if (!shape_ok) {
      fail(index, "bias '" + b.name + "' has shape " + dims_text(b.dims) + ", expected [" + std::to_string(out) + "]");
    }
    return b.floats;
  }

  void require_flat(std::size_t index) const {
    if (!m_flat) {
      fail(index, "needs a flat [batch, features] input but gets " + to_string(m_shape) +
                      " (C x H x W); add a Flatten before it");
    }
  }

  void require_image(std::size_t index) const {
    if (m_flat) fail(index, "needs a [batch, C, H, W] input but gets a flat vector of " + to_string(m_shape));
  }

  // kernel, strides, pads of a 2-D window; fills l's window fields and returns the output shape.
  tensor_shape window(std::size_t index, layer& l, unsigned out_c, std::int64_t kh, std::int64_t kw, bool pool) {
    const std::string auto_pad = attr_string(index, "auto_pad", "NOTSET");
    if (auto_pad != "NOTSET") {
      fail(index, "has auto_pad = '" + auto_pad + "'; axsa supports only NOTSET (explicit pads)");
    }
    const auto dilations = attr_ints(index, "dilations", {1, 1}, 2);
    if (dilations[0] != 1 || dilations[1] != 1) fail(index, "has dilations " + dims_text(dilations) + "; axsa supports only [1, 1]");
    const auto strides = attr_ints(index, "strides", {1, 1}, 2);
    const auto pads = attr_ints(index, "pads", {0, 0, 0, 0}, 4);
    if (kh < 1 || kw < 1 || kh > max_extent || kw > max_extent) fail(index, "has an invalid kernel size");
    for (const std::int64_t s : strides) {
      if (s < 1 || s > max_extent) fail(index, "has strides " + dims_text(strides) + ", expected values >= 1");
    }
    for (const std::int64_t p : pads) {
      if (p < 0 || p > max_extent) fail(index, "has pads " + dims_text(pads) + ", expected values >= 0");
    }
    if (pool && (pads[0] >= kh || pads[2] >= kh || pads[1] >= kw || pads[3] >= kw)) {
      fail(index, "has pads " + dims_text(pads) + " not smaller than its kernel; a window could miss the image");
    }
    const std::int64_t span_h = m_shape.h + pads[0] + pads[2], span_w = m_shape.w + pads[1] + pads[3];
    if (span_h < kh || span_w < kw) {
      fail(index, "has a " + std::to_string(kh) + "x" + std::to_string(kw) + " kernel larger than its padded input " +
                      std::to_string(span_h) + "x" + std::to_string(span_w));
    }
    l.kh = static_cast<unsigned>(kh);
    l.kw = static_cast<unsigned>(kw);
    l.stride_h = static_cast<unsigned>(strides[0]);
    l.stride_w = static_cast<unsigned>(strides[1]);
    l.pad_top = static_cast<unsigned>(pads[0]);
    l.pad_left = static_cast<unsigned>(pads[1]);
    l.pad_bottom = static_cast<unsigned>(pads[2]);
    l.pad_right = static_cast<unsigned>(pads[3]);
    return {out_c, static_cast<unsigned>((span_h - kh) / strides[0] + 1),
            static_cast<unsigned>((span_w - kw) / strides[1] + 1)};
  }

  void import_conv(std::size_t index) {
    check_attributes(index, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
    check_input_count(index, 2, 3);
    require_image(index);
    const onnx::tensor& w = float_constant(index, 1, "weights");
    if (w.dims.size() != 4) fail(index, "weights '" + w.name + "' have shape " + dims_text(w.dims) + ", expected 4-D [out_c, in_c, kh, kw]");
    require_int(index, "group", attr_int(index, "group", 1), 1, "(no grouped or depthwise convolution)");
    if (w.dims[1] != m_shape.c) {
      fail(index, "weights '" + w.name + "' have shape " + dims_text(w.dims) + " for " + std::to_string(w.dims[1]) +
                      " input channels, but its input is " + to_string(m_shape));
    }
    if (w.dims[0] < 1) fail(index, "weights '" + w.name + "' have no output channels");
    if (const onnx::attribute* k = typed(index, "kernel_shape", onnx::attr_ints, "INTS")) {
      if (k->ints != std::vector<std::int64_t>{w.dims[2], w.dims[3]}) {
        fail(index, "has kernel_shape " + dims_text(k->ints) + " but weights of shape " + dims_text(w.dims));
      }
    }
    layer l;
    const auto out_c = static_cast<unsigned>(w.dims[0]);
    const tensor_shape out = window(index, l, out_c, w.dims[2], w.dims[3], false);
    std::vector<float> bias = bias_vector(index, 2, out_c);
    layer& pushed = push(index, layer_kind::conv, out);
    pushed.kh = l.kh, pushed.kw = l.kw, pushed.stride_h = l.stride_h, pushed.stride_w = l.stride_w;
    pushed.pad_top = l.pad_top, pushed.pad_left = l.pad_left, pushed.pad_bottom = l.pad_bottom,
    pushed.pad_right = l.pad_right;
    pushed.weights = w.floats;
    pushed.bias = std::move(bias);
  }

  void import_pool(std::size_t index, bool is_max) {
    if (is_max) {
      check_attributes(index, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
    } else {
      check_attributes(index, {"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"});
    }
    check_input_count(index, 1, 1);
    require_image(index);
    require_int(index, "ceil_mode", attr_int(index, "ceil_mode", 0), 0, "(floor)");
    if (!m_model.nodes[index].find("kernel_shape")) fail(index, "has no kernel_shape");
    const auto kernel = attr_ints(index, "kernel_shape", {}, 2);
    layer l;
    const tensor_shape out = window(index, l, m_shape.c, kernel[0], kernel[1], true);
    // count_include_pad only matters where there is padding; axsa averages over real pixels only.
    const bool padded = l.pad_top || l.pad_left || l.pad_bottom || l.pad_right;
    if (!is_max && padded && attr_int(index, "count_include_pad", 0) != 0) {
      fail(index, "has count_include_pad = 1 with padding; axsa supports only the default 0 there");
    }
    layer& pushed = push(index, is_max ? layer_kind::max_pool : layer_kind::avg_pool, out);
    pushed.kh = l.kh, pushed.kw = l.kw, pushed.stride_h = l.stride_h, pushed.stride_w = l.stride_w;
    pushed.pad_top = l.pad_top, pushed.pad_left = l.pad_left, pushed.pad_bottom = l.pad_bottom,
    pushed.pad_right = l.pad_right;
  }

  void push_dense(std::size_t index, std::vector<float> weights_out_in, std::vector<float> bias) {
    const auto out = static_cast<unsigned>(bias.size());
    layer& pushed = push(index, layer_kind::dense, {out, 1, 1});
    pushed.weights = std::move(weights_out_in);
    pushed.bias = std::move(bias);
  }

  // Weights given [in][out] (MatMul, Gemm with transB = 0), stored [out][in].
  static std::vector<float> transpose(const std::vector<float>& in_out, std::size_t in, std::size_t out) {
    std::vector<float> t(in * out);
    for (std::size_t i = 0; i < in; ++i) {
      for (std::size_t o = 0; o < out; ++o) t[o * in + i] = in_out[i * out + o];
    }
    return t;
  }

  void import_gemm(std::size_t index) {
    check_attributes(index, {"alpha", "beta", "transA", "transB"});
    check_input_count(index, 2, 3);
    require_flat(index);
    const float alpha = attr_float(index, "alpha", 1.0f), beta = attr_float(index, "beta", 1.0f);
    if (alpha != 1.0f || beta != 1.0f) {
      fail(index, "has alpha = " + std::to_string(alpha) + ", beta = " + std::to_string(beta) +
                      "; axsa supports only alpha = beta = 1");
    }
    require_int(index, "transA", attr_int(index, "transA", 0), 0, "(activations as rows)");
    const std::int64_t trans_b = attr_int(index, "transB", 0);
    if (trans_b != 0 && trans_b != 1) fail(index, "has transB = " + std::to_string(trans_b) + ", expected 0 or 1");
    const onnx::tensor& b = float_constant(index, 1, "B");
    if (b.dims.size() != 2) fail(index, "B '" + b.name + "' has shape " + dims_text(b.dims) + ", expected 2-D");
    const std::int64_t in = trans_b ? b.dims[1] : b.dims[0], out = trans_b ? b.dims[0] : b.dims[1];
    check_dense_shape(index, b, in, out);
    std::vector<float> weights = trans_b ? b.floats : transpose(b.floats, static_cast<std::size_t>(in), static_cast<std::size_t>(out));
    push_dense(index, std::move(weights), bias_vector(index, 2, static_cast<std::size_t>(out)));
  }

  void check_dense_shape(std::size_t index, const onnx::tensor& b, std::int64_t in, std::int64_t out) const {
    if (in != static_cast<std::int64_t>(m_shape.size())) {
      fail(index, "weights '" + b.name + "' of shape " + dims_text(b.dims) + " take " + std::to_string(in) +
                      " inputs, but the flattened input has " + std::to_string(m_shape.size()));
    }
    if (out < 1) fail(index, "weights '" + b.name + "' have no outputs");
  }

  void import_matmul(std::size_t index) {
    check_attributes(index, {});
    check_input_count(index, 2, 2);
    require_flat(index);
    const onnx::tensor& b = float_constant(index, 1, "B");
    if (b.dims.size() != 2) fail(index, "B '" + b.name + "' has shape " + dims_text(b.dims) + ", expected 2-D [in, out]");
    check_dense_shape(index, b, b.dims[0], b.dims[1]);
    const auto in = static_cast<std::size_t>(b.dims[0]), out = static_cast<std::size_t>(b.dims[1]);
    push_dense(index, transpose(b.floats, in, out), std::vector<float>(out, 0.0f));
    m_pending_bias = true;
  }

  // Add right after MatMul with a constant vector is that dense layer's bias; any other Add is not
  // a layer axsa can run.
  void import_bias_add(std::size_t index, const std::string& current) {
    const onnx::node& n = m_model.nodes[index];
    check_attributes(index, {});
    check_input_count(index, 2, 2);
    const std::size_t other = n.inputs[0] == current ? 1 : 0;
    if (!m_pending_bias || n.inputs[other] == current || constant(n.inputs[other]) == nullptr) {
      fail(index, "is not the bias of a MatMul; axsa supports Add only as a constant bias vector right after MatMul");
    }
    m_pending_bias = false;
    layer& dense = m_target->back();
    dense.bias = bias_vector(index, other, dense.out.size());
  }

  void import_flatten(std::size_t index) {
    check_attributes(index, {"axis"});
    check_input_count(index, 1, 1);
    const std::int64_t axis = attr_int(index, "axis", 1), rank = m_flat ? 2 : 4;
    if (axis != 1 && axis != 1 - rank) fail(index, "has axis = " + std::to_string(axis) + "; axsa supports only 1");
    push(index, layer_kind::flatten, {static_cast<unsigned>(m_shape.size()), 1, 1});
    m_flat = true;
  }

  void import_reshape(std::size_t index) {
    const onnx::node& n = m_model.nodes[index];
    check_attributes(index, {"allowzero"});
    check_input_count(index, 2, 2);
    const onnx::tensor* shape = constant(n.inputs[1]);
    if (shape == nullptr || shape->data_type != onnx::int64) {
      fail(index, "shape '" + n.inputs[1] + "' must be a constant INT64 tensor");
    }
    mark_constant_used(n.inputs[1]);
    const std::int64_t allow_zero = attr_int(index, "allowzero", 0);
    const auto features = static_cast<std::int64_t>(m_shape.size());
    const std::int64_t batch = m_model.inputs[0].dims[0];  // -1 when symbolic
    const auto& s = shape->ints;
    bool ok = s.size() == 2;
    if (ok) {
      const bool batch_ok = (s[0] == 0 && allow_zero == 0) || s[0] == 1 || (batch > 0 && s[0] == batch) ||
                            (s[0] == -1 && s[1] == features);
      ok = batch_ok && (s[1] == features || (s[1] == -1 && s[0] != -1));
    }
    if (!ok) {
      fail(index, "reshapes " + to_string(m_shape) + " to " + dims_text(s, true) +
                      "; axsa supports Reshape only as a flatten to [batch, -1] or [batch, " + std::to_string(features) + "]");
    }
    push(index, layer_kind::flatten, {static_cast<unsigned>(features), 1, 1});
    m_flat = true;
  }

  void import_softmax(std::size_t index) {
    check_attributes(index, {"axis"});
    check_input_count(index, 1, 1);
    require_flat(index);
    const std::int64_t axis = attr_int(index, "axis", m_model.opset >= 13 ? -1 : 1);
    if (axis != 1 && axis != -1) fail(index, "has axis = " + std::to_string(axis) + "; axsa supports only the last axis (1 or -1)");
    push(index, layer_kind::softmax, m_shape);
  }

  const onnx::model& m_model;
  const std::string& m_path;
  network m_net;
  tensor_shape m_shape;
  bool m_flat = false;
  bool m_pending_bias = false;  // the last layer is a MatMul whose bias an Add may still supply
  std::vector<layer>* m_target = &m_net.layers;  // the chain being imported: the trunk or an exit head
  std::vector<bool> m_used;
  std::map<std::string, std::vector<std::size_t>> m_consumers;  // tensor -> nodes that read it
  std::map<std::string, std::size_t> m_output_index;            // graph output -> its position
  std::vector<std::uint64_t> m_reach;                           // node -> graph outputs it leads to
  std::map<std::string, onnx::tensor> m_constants;  // outputs of Constant nodes
  std::set<std::string> m_used_constants;
};

void conv_forward(const layer& l, const float* in, float* out) {
  const tensor_shape& i = l.in;
  for (unsigned oc = 0; oc < l.out.c; ++oc) {
    for (unsigned oy = 0; oy < l.out.h; ++oy) {
      for (unsigned ox = 0; ox < l.out.w; ++ox) {
        float sum = l.bias[oc];
        for (unsigned ic = 0; ic < i.c; ++ic) {
          for (unsigned ky = 0; ky < l.kh; ++ky) {
            const long iy = static_cast<long>(oy) * l.stride_h + ky - l.pad_top;
            if (iy < 0 || iy >= static_cast<long>(i.h)) continue;
            for (unsigned kx = 0; kx < l.kw; ++kx) {
              const long ix = static_cast<long>(ox) * l.stride_w + kx - l.pad_left;
              if (ix < 0 || ix >= static_cast<long>(i.w)) continue;
              sum += l.weights[((std::size_t{oc} * i.c + ic) * l.kh + ky) * l.kw + kx] *
                     in[(std::size_t{ic} * i.h + static_cast<std::size_t>(iy)) * i.w + static_cast<std::size_t>(ix)];
            }
          }
        }
        out[(std::size_t{oc} * l.out.h + oy) * l.out.w + ox] = sum;
      }
    }
  }
}

// Padding never takes part: max over, and average of, the real pixels under the window.
void pool_forward(const layer& l, const float* in, float* out, bool is_max) {
  const tensor_shape& i = l.in;
  for (unsigned c = 0; c < l.out.c; ++c) {
    for (unsigned oy = 0; oy < l.out.h; ++oy) {
      for (unsigned ox = 0; ox < l.out.w; ++ox) {
        float best = -std::numeric_limits<float>::infinity(), sum = 0;
        unsigned count = 0;
        for (unsigned ky = 0; ky < l.kh; ++ky) {
          const long iy = static_cast<long>(oy) * l.stride_h + ky - l.pad_top;
          if (iy < 0 || iy >= static_cast<long>(i.h)) continue;
          for (unsigned kx = 0; kx < l.kw; ++kx) {
            const long ix = static_cast<long>(ox) * l.stride_w + kx - l.pad_left;
            if (ix < 0 || ix >= static_cast<long>(i.w)) continue;
            const float v = in[(std::size_t{c} * i.h + static_cast<std::size_t>(iy)) * i.w + static_cast<std::size_t>(ix)];
            best = std::max(best, v);
            sum += v;
            ++count;
          }
        }
        out[(std::size_t{c} * l.out.h + oy) * l.out.w + ox] = is_max ? best : sum / static_cast<float>(count);
      }
    }
  }
}

}  // namespace

std::string to_string(const tensor_shape& s) {
  if (s.h == 1 && s.w == 1) return std::to_string(s.c);
  return std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w);
}

const char* to_string(layer_kind kind) {
  switch (kind) {
    case layer_kind::conv: return "conv";
    case layer_kind::dense: return "dense";
    case layer_kind::relu: return "relu";
    case layer_kind::max_pool: return "max_pool";
    case layer_kind::avg_pool: return "avg_pool";
    case layer_kind::flatten: return "flatten";
    case layer_kind::softmax: return "softmax";
  }
  return "?";
}

std::size_t network::classes() const { return layers.empty() ? input.size() : layers.back().out.size(); }

network import_onnx(const onnx::model& m, const std::string& source) {
  try {
    return importer(m, source).run();
  } catch (const config_error& e) {
    // Node and tensor names come from the file and may hold line breaks; an error is one line (found by
    // tests/fuzz/fuzz_onnx).
    std::string text = e.what();
    for (char& c : text) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    throw config_error(text);
  }
}

network load_onnx(const std::string& path) { return import_onnx(onnx::read_model(path), path); }

std::vector<std::vector<float>> forward_chain(const std::vector<layer>& layers, const std::vector<float>& input) {
  std::vector<std::vector<float>> outputs;
  outputs.reserve(layers.size());
  for (const layer& l : layers) {
    const std::vector<float>& cur = outputs.empty() ? input : outputs.back();
    std::vector<float> next(l.out.size(), 0.0f);
    switch (l.kind) {
      case layer_kind::conv: conv_forward(l, cur.data(), next.data()); break;
      case layer_kind::dense: {
        const std::size_t n_in = l.in.size();
        for (std::size_t o = 0; o < l.out.size(); ++o) {
          float sum = l.bias[o];
          const float* w = l.weights.data() + o * n_in;
          for (std::size_t i = 0; i < n_in; ++i) sum += w[i] * cur[i];
          next[o] = sum;
        }
        break;
      }
      case layer_kind::relu:
        for (std::size_t i = 0; i < cur.size(); ++i) next[i] = cur[i] > 0.0f ? cur[i] : 0.0f;
        break;
      case layer_kind::max_pool: pool_forward(l, cur.data(), next.data(), true); break;
      case layer_kind::avg_pool: pool_forward(l, cur.data(), next.data(), false); break;
      case layer_kind::flatten: next = cur; break;
      case layer_kind::softmax: {
        const float peak = *std::max_element(cur.begin(), cur.end());
        float total = 0;
        for (std::size_t i = 0; i < cur.size(); ++i) total += next[i] = std::exp(cur[i] - peak);
        for (float& v : next) v /= total;
        break;
      }
    }
    outputs.push_back(std::move(next));
  }
  return outputs;
}

std::vector<std::vector<float>> forward_all(const network& net, const float* input) {
  return forward_chain(net.layers, std::vector<float>(input, input + net.input.size()));
}

std::vector<float> forward(const network& net, const float* input) {
  std::vector<std::vector<float>> outputs = forward_all(net, input);
  if (outputs.empty()) return std::vector<float>(input, input + net.input.size());
  return std::move(outputs.back());
}

std::vector<std::vector<float>> forward_exits(const network& net, const float* input) {
  const std::vector<float> image(input, input + net.input.size());
  const std::vector<std::vector<float>> trunk = forward_all(net, input);
  std::vector<std::vector<float>> exits;
  for (const exit_head& e : net.exits) {
    auto head = forward_chain(e.layers, e.branch == 0 ? image : trunk[e.branch - 1]);
    exits.push_back(std::move(head.back()));
  }
  exits.push_back(trunk.empty() ? image : trunk.back());
  return exits;
}

void check_input(const network& net, const idx_images& images) {
  const tensor_shape expected{1, images.rows, images.cols};
  if (net.input != expected) {
    throw config_error(net.source + ": the network's input is " + to_string(net.input) +
                       " (C x H x W) but the data set's images are " + to_string(expected) +
                       " (expected a 1 x " + std::to_string(images.rows) + " x " + std::to_string(images.cols) +
                       " input)");
  }
}

}  // namespace axsa::sw
