// Bad input to the Python and shell scripts: scripts/plot_campaign.py, scripts/eval_lenet5_onnx.py
// and scripts/reproduce_survey_table.sh. Each refusal is one error line on stderr naming what was
// wrong and exit status 2, never a Python traceback, never advice that does not apply.
// Databases come from the synthetic campaign_fixture; nothing is simulated.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "tests/support/run_command.h"
#include "tests/support/temp_dir_test.h"

namespace {

namespace fs = std::filesystem;
using axsa::test::command_result;
using axsa::test::count_lines;
using axsa::test::read_text;

const std::string python = "/usr/bin/python3";
const std::string source_dir = AXSA_SOURCE_DIR;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class script_test : public axsa::test::temp_dir_test {
 protected:
  // A refusal: exit 2, one line on stderr starting with `prefix` and holding `fragment`, no traceback.
  void expect_refusal(const command_result& r, const std::string& prefix, const std::string& fragment,
                      const std::string& what) const {
    EXPECT_EQ(r.exit_code, 2) << what << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << what << ": " << r.err;
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << what << ": " << r.err;
    EXPECT_TRUE(contains(r.err, fragment)) << what << ": expected '" << fragment << "' in " << r.err;
    EXPECT_FALSE(contains(r.err, "Traceback")) << what << ": " << r.err;
  }

  // A complete 2x2 campaign database of the synthetic fixture.
  void make_campaign(const std::string& name) const {
    const auto r = run(std::string(AXSA_FIXTURE_BIN) + " --out " + file(name) +
                       " --rows 2 --cols 2 --bits 2 --images 3 --margin 0.2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Runs SQL on a database with Python's sqlite3, CHECK constraints off (as a damaged file could be).
  void tamper(const std::string& db, const std::string& sql) const {
    std::ofstream(file("tamper.py")) << "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\n"
                                        "db.execute('PRAGMA ignore_check_constraints = 1')\n"
                                        "db.executescript(sys.argv[2])\ndb.commit()\n";
    const auto r = run(python + " " + file("tamper.py") + " " + db + " \"" + sql + "\"");
    ASSERT_EQ(r.exit_code, 0) << sql << ": " << r.err;
  }
};

// --- scripts/plot_campaign.py ----------------------------------------------------------------

class plot_script_test : public script_test {
 protected:
  command_result plot(const std::string& db, const std::string& out) const {
    return run(python + " " + source_dir + "/scripts/plot_campaign.py " + db + " --out " + out);
  }
};

TEST_F(plot_script_test, damaged_databases_are_one_line_and_exit_2) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      // name, SQL applied to a complete campaign, expected fragment
      {"outcome9", "UPDATE results SET outcome = 9 WHERE image = 1",
       "outcome code 9 (expected 0..4)"},
      // -1 once indexed the last class (hang) silently.
      {"outcome_neg", "UPDATE results SET outcome = -1", "outcome code -1"},
      {"outcome_text", "UPDATE results SET outcome = 'masked'", "outcome code 'masked'"},
      {"rows_text", "UPDATE config SET value = 'abc' WHERE key = 'rows'", "rows = 'abc'"},
      {"cols_zero", "UPDATE config SET value = '0' WHERE key = 'cols'", "cols = '0'"},
      {"bits_missing", "DELETE FROM config WHERE key = 'bits'", "lacks the key 'bits'"},
      {"mult_missing", "DELETE FROM config WHERE key = 'mult'", "lacks the key 'mult'"},
      {"fault_row_text", "UPDATE faults SET row = 'x'", "row 'x'"},
      {"no_results", "DROP TABLE results", "no such table: results"},
  };
  for (const auto& [name, sql, fragment] : cases) {
    const std::string db = file(name + ".db");
    make_campaign(name + ".db");
    tamper(db, sql);
    const auto r = plot(db, file("p_" + name));
    expect_refusal(r, "plot_campaign.py: error: " + db + ": ", fragment, name);
    EXPECT_FALSE(fs::exists(file("p_" + name + "_pe_critical.png"))) << name;
    EXPECT_TRUE(r.out.empty()) << name << ": " << r.out;
  }
}

TEST_F(plot_script_test, unwritable_output_is_one_line_and_exit_2) {
  make_campaign("c.db");
  std::ofstream(file("plain")) << "a file, not a folder\n";
  fs::create_directories(file("taken_pe_critical.png"));  // the output name is a folder
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {file("plain/x"), file("plain/x_pe_critical.png"), file("plain") + " is not a folder"},
      {file("plain/deeper/x"), file("plain/deeper/x_pe_critical.png"), file("plain") + " is not a folder"},
      {file("taken"), file("taken_pe_critical.png"), "Is a directory"},
      {"/proc/axsa_plot", "/proc/axsa_plot_pe_critical.png", ""},  // the audit's case: no file may be made there
      {"/dev/full/x", "/dev/full/x_pe_critical.png", "/dev/full is not a folder"},
  };
  for (const auto& [out, named, fragment] : cases) {
    const auto r = plot(file("c.db"), out);
    expect_refusal(r, "plot_campaign.py: error: cannot write " + named, fragment, out);
    EXPECT_TRUE(r.out.empty()) << out << ": " << r.out;
  }
  // The same database plots fine into a writable prefix.
  const auto ok = plot(file("c.db"), file("plots/c"));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(fs::is_regular_file(file("plots/c_bits.png")));
  EXPECT_EQ(ok.err, "");
}

TEST_F(plot_script_test, bad_options_are_one_line_and_exit_2) {
  make_campaign("c.db");
  const std::string script = python + " " + source_dir + "/scripts/plot_campaign.py ";
  const auto none = run(script);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_TRUE(contains(none.err, "database")) << none.err;
  const auto extra = run(script + file("c.db") + " --frobnicate");
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_TRUE(contains(extra.err, "--frobnicate")) << extra.err;
}

// --- scripts/eval_lenet5_onnx.py -------------------------------------------------------------

class eval_script_test : public script_test {
 protected:
  void SetUp() override {
    script_test::SetUp();
    // A synthetic MNIST test set (10000 blank images, label 0): the script needs exactly 10000.
    fs::create_directories(file("mnist"));
    auto be32 = [](std::ofstream& f, std::uint32_t v) {
      const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
      f.write(b, 4);
    };
    std::ofstream images(file("mnist/t10k-images-idx3-ubyte"), std::ios::binary);
    for (std::uint32_t v : {0x803u, 10000u, 28u, 28u}) be32(images, v);
    images << std::string(10000 * 28 * 28, '\0');
    std::ofstream labels(file("mnist/t10k-labels-idx1-ubyte"), std::ios::binary);
    for (std::uint32_t v : {0x801u, 10000u}) be32(labels, v);
    labels << std::string(10000, '\0');
  }
  command_result eval(const std::string& args) const {
    return run(python + " " + source_dir + "/scripts/eval_lenet5_onnx.py --data-dir " + file("mnist") + " " + args);
  }
  // A one-node-or-two ONNX model written with the onnx package.
  void write_model(const std::string& name, const std::string& graph) const {
    std::ofstream(file("model.py"))
        << "import sys, numpy as np, onnx\nfrom onnx import helper, numpy_helper, TensorProto as T\n"
        << "x = helper.make_tensor_value_info('x', T.FLOAT, ['N', 1, 28, 28])\n"
        << "y = helper.make_tensor_value_info('y', T.FLOAT, ['N', 10])\n" << graph
        << "m = helper.make_model(helper.make_graph(nodes, 'g', [x], [y], inits),\n"
        << "                      opset_imports=[helper.make_opsetid('', 13)])\n"
        << "m.ir_version = 8\nonnx.save(m, sys.argv[1])\n";
    const auto r = run(python + " " + file("model.py") + " " + file(name));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

TEST_F(eval_script_test, bad_options_and_files_are_one_line_and_exit_2) {
  std::ofstream(file("random.onnx")) << std::string("\x08\xff\x13 not protobuf \xfe\x01\x99", 19) << std::string(500, '\xa7');
  std::ofstream(file("bad.json")) << "{\"test_correct\": ";
  std::ofstream(file("partial.json")) << "{\"test_correct\": 9900}";
  fs::create_directories(file("no_mnist"));
  write_model("sigmoid.onnx", "nodes = [helper.make_node('Sigmoid', ['x'], ['y'])]\ninits = []\n");
  write_model("narrow.onnx",  // valid, but its Gemm expects 10 inputs, not 784
              "nodes = [helper.make_node('Flatten', ['x'], ['f']), helper.make_node('Gemm', ['f', 'w'], ['y'])]\n"
              "inits = [numpy_helper.from_array(np.zeros((10, 10), np.float32), 'w')]\n");
  const std::string e = "eval_lenet5_onnx.py: error: ";
  const std::vector<std::tuple<std::string, std::string>> cases = {
      {"--batch 0", "--batch must be at least 1 (got 0)"},
      {"--batch -1", "--batch must be at least 1 (got -1)"},
      {"--batch x", "--batch"},
      {"--max-diff -1", "--max-diff"},
      {"--frobnicate", "--frobnicate"},
      {"--onnx " + file("random.onnx"), file("random.onnx") + " is not a LeNet-5 ONNX model"},
      {"--onnx /nonexistent.onnx", "cannot open /nonexistent.onnx: no such file"},
      {"--onnx " + file("mnist"), "cannot open " + file("mnist") + ": not a file"},
      {"--onnx " + file("sigmoid.onnx") + " --json ''", "Sigmoid"},
      {"--onnx " + file("narrow.onnx") + " --json ''", file("narrow.onnx") + " cannot be evaluated"},
      {"--json " + file("bad.json"), file("bad.json") + " is not valid JSON"},
      {"--json " + file("partial.json"), "lacks a numeric 'test_total'"},
      {"--json /nonexistent.json", "cannot read /nonexistent.json"},
      {"--data-dir " + file("no_mnist"), file("no_mnist/t10k-images-idx3-ubyte") + " not found"},
      {"--data-dir /nonexistent", "--data-dir /nonexistent: no such folder"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = eval(args);
    expect_refusal(r, e, fragment, args);
    // Only a model that loads gets its node list printed before the evaluation fails.
    EXPECT_EQ(r.out.empty(), !contains(args, "narrow")) << args << ": " << r.out;
    EXPECT_FALSE(contains(r.out, "correct")) << args << ": " << r.out;
  }
  // A data folder other than the default gets no advice to fetch MNIST into data/mnist.
  EXPECT_FALSE(contains(eval("--data-dir " + file("no_mnist")).err, "fetch_mnist"));
}

TEST_F(eval_script_test, evaluates_the_model_on_a_valid_test_set) {
  // Batches that do not divide 10000 (the last one is short); no JSON comparison on synthetic data.
  const auto r = eval("--batch 3000 --json ''");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "/10000 correct")) << r.out;
  EXPECT_EQ(r.err, "");
}

// --- scripts/reproduce_survey_table.sh -------------------------------------------------------

// A stand-in axsa: `campaign` is the synthetic fixture, or, with CAMPAIGN_STATUS set, one error
// line and that exit status; `infer` a fixed accuracy and energy (INT16 twice INT8's array energy,
// 1.25 times its system energy); the rest the real axsa. Calls are logged.
class survey_bad_input_test : public script_test {
 protected:
  void SetUp() override {
    script_test::SetUp();
    std::ofstream s(file("axsa"));
    s << "#!/bin/bash\necho \"$*\" >> " << file("calls.log") << "\ncase \"$1\" in\n"
      << "  campaign) shift\n"
      << "    if [[ -n $CAMPAIGN_STATUS ]]; then echo \"axsa campaign: error: stand-in refusal\" >&2; "
         "exit $CAMPAIGN_STATUS; fi\n"
      << "    exec " << AXSA_FIXTURE_BIN << " \"$@\" ;;\n"
      << "  infer) if [[ \"$*\" == *'--bits 16'* ]]; then e='\"array_pj\": 2000, \"total_pj\": 10000'; "
         "else e='\"array_pj\": 1000, \"total_pj\": 8000'; fi\n"
      << "    echo \"{\\\"accuracy\\\": 0.9875, \\\"images\\\": 20, \\\"energy_per_image\\\": {$e}}\" ;;\n"
      << "  multipliers) exit 2 ;;\n"
      << "  *) exec " << AXSA_BIN << " \"$@\" ;;\nesac\n";
    s.close();
    fs::permissions(file("axsa"), fs::perms::owner_all);
  }
  std::string script() const {
    return source_dir + "/scripts/reproduce_survey_table.sh --axsa " + file("axsa") + " --out " + file("survey") +
           " --no-accuracy";
  }
  std::size_t campaign_calls() const {
    std::istringstream log(read_text(file("calls.log")));
    std::size_t n = 0;
    for (std::string line; std::getline(log, line);) n += line.rfind("campaign ", 0) == 0;
    return n;
  }
};

TEST_F(survey_bad_input_test, out_of_range_values_are_refused_before_any_campaign) {
  std::ofstream(file("plain")) << "a file\n";
  const std::string e = "reproduce_survey_table.sh: error: ";
  const std::vector<std::tuple<std::string, std::string>> cases = {
      {"--rows 0", "--rows expects a positive integer (got '0')"},
      {"--cols 000", "--cols expects a positive integer (got '000')"},
      {"--images 0", "--images expects a positive integer (got '0')"},
      {"--quick --images 0", "--images expects a positive integer"},
      {"--batch 0", "--batch expects a positive integer (got '0')"},
      {"--jobs 0", "--jobs expects a positive integer (got '0')"},
      {"--seed -3", "--seed expects a non-negative integer"},
      {"--operand-align middle", "--operand-align expects low or high (got 'middle')"},
      {"--margin .0", "--margin expects a number strictly between 0 and 1 (got '.0')"},
      {"--margin 0.000", "--margin expects a number strictly between 0 and 1"},
      {"--margin 0", "--margin expects a number strictly between 0 and 1"},
      {"--confidence 1", "--confidence expects a number strictly between 0 and 1"},
      {"--confidence 0.0", "--confidence expects a number strictly between 0 and 1"},
      {"--out " + file("plain/survey"), "--out: "},
      {"--logits softmax", "--logits expects dequantized or requantized (got 'softmax')"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run(script() + " " + args);
    expect_refusal(r, e, fragment, args);
    EXPECT_FALSE(contains(r.err, "rerun")) << args << ": " << r.err;
    EXPECT_EQ(campaign_calls(), 0u) << args;
  }
}

TEST_F(survey_bad_input_test, campaign_refusing_its_input_gets_no_resume_advice) {
  const auto r = run("CAMPAIGN_STATUS=2 " + script() + " --images 2 --margin 0.2 --rows 4 --cols 4");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Progress lines, then axsa's own error line as the last and only error.
  EXPECT_TRUE(r.err.size() > 1 && r.err.substr(r.err.rfind('\n', r.err.size() - 2) + 1) ==
                                      "axsa campaign: error: stand-in refusal\n")
      << r.err;
  EXPECT_FALSE(contains(r.err, "rerun")) << r.err;
  EXPECT_FALSE(contains(r.err, "reproduce_survey_table.sh: error")) << r.err;
  EXPECT_EQ(campaign_calls(), 1u);  // stops at the first campaign
}

TEST_F(survey_bad_input_test, interrupted_campaign_keeps_the_resume_advice) {
  for (const char* status : {"1", "3", "130"}) {
    fs::remove(file("calls.log"));
    const auto r = run(std::string("CAMPAIGN_STATUS=") + status + " " + script() + " --images 2 --margin 0.2");
    EXPECT_EQ(r.exit_code, 1) << status << ": " << r.err;
    EXPECT_TRUE(contains(r.err, "reproduce_survey_table.sh: error: campaign int16_exact stopped; rerun the same "
                                "command to resume it"))
        << status << ": " << r.err;
    EXPECT_EQ(campaign_calls(), 1u) << status;
  }
  // And with valid values the whole survey runs through.
  fs::remove(file("calls.log"));
  const auto ok = run(script() + " --images 2 --margin 0.2 --rows 4 --cols 4 --mults drum12_k6");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(campaign_calls(), 3u);
  EXPECT_TRUE(contains(read_text(file("calls.log")), "--operand-align=low")) << "the default reaches every campaign";
  EXPECT_TRUE(fs::is_regular_file(file("survey/survey_table.csv")));
  // The energy column: each configuration against INT16 exact, the array alone and the system.
  const std::string md = read_text(file("survey/survey_table.md"));
  EXPECT_TRUE(contains(md, "| INT8 drum12_k6 ") && contains(md, "50.0 / 20.0")) << md;
  EXPECT_TRUE(contains(md, "0.0 / 0.0")) << md;
  // The survey's published row beside ours where it has one (INT16 and INT8 exact), "-" elsewhere;
  // the logits convention named in the caption and passed to every campaign and infer.
  EXPECT_TRUE(contains(md, "| 99.07 / 10 / 47.58 / 29.18 / 23.24 ")) << md;
  EXPECT_TRUE(contains(md, "| 99.05 / 19 / 64.65 / 23.01 / 12.34 ")) << md;
  EXPECT_TRUE(contains(md, "logits dequantized")) << md;
  fs::remove(file("calls.log"));
  fs::remove_all(file("survey"));
  const auto req = run(script() + " --images 2 --margin 0.2 --rows 4 --cols 4 --mults drum12_k6 --logits requantized");
  ASSERT_EQ(req.exit_code, 0) << req.err;
  EXPECT_TRUE(contains(read_text(file("survey/survey_table.md")), "logits requantized"));
  std::istringstream log(read_text(file("calls.log")));
  std::size_t with_logits = 0;
  for (std::string line; std::getline(log, line);)
    if (line.rfind("campaign ", 0) == 0 || line.rfind("infer ", 0) == 0) with_logits += contains(line, "--logits requantized");
  EXPECT_EQ(with_logits, 6u) << read_text(file("calls.log"));
}

}  // namespace
