// The bad-model-files matrix. Each case copies a valid tiny generated model directory, breaks one
// thing in it, and loads it through Engine::Create, the one function the server's LoadModel calls
// (config.json, checkpoint, tokenizer, generation_config.json, in that order). A case passes when:
//   * the load fails with the expected canonical code and a message naming the file and the tensor
//     or field at fault, or, for the few defects a loader should accept (non-finite weights,
//     unused tensors), the model loads and a logged warning names them;
//   * the process survives (each case runs in its own process under CTest, so a crash or an abort
//     fails that case alone);
//   * a failing load stays bounded in memory: neither its peak C++ heap growth nor the heap it
//     keeps exceeds kMaxFailedLoadHeapBytes, although several cases declare sizes of 2^40 and more
//     (allocation_meter.h says what is measured).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/engine/engine.h"
#include "core/model/weight_plan.h"
#include "core/util/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/model/allocation_meter.h"
#include "tests/core/model/bad_model_cases.h"
#include "tests/core/model/model_dir_edits.h"
#include "tests/test_util/safetensors_bytes.h"
#include "tests/test_util/temp_dir.h"
#include "tools/make_model/make_model.h"

namespace ember {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The generated model holds about 0.7 MB of weights; a failing load gets ten times that.
constexpr int64_t kMaxFailedLoadHeapBytes = int64_t{8} << 20;

// Writes the tiny-llama model (fixed seed) into a directory removed when the process exits.
std::string GenerateTemplate(const std::string& name, int shards) {
  static const testing::TempDir root;
  tools::MakeModelOptions options;
  options.out_dir = root.File(name);
  options.spec = *tools::PresetSpec("tiny-llama");
  options.seed = 8;
  options.shards = shards;
  const absl::StatusOr<tools::MakeModelReport> report = tools::MakeModel(options);
  EXPECT_TRUE(report.ok()) << report.status();
  return options.out_dir;
}

// The valid directory a case starts from, generated on first use (CTest runs each case in its own
// process, which then needs only its own layout).
const std::string& TemplateDir(ModelLayout layout) {
  if (layout == ModelLayout::kSharded) {
    static const std::string sharded = GenerateTemplate("sharded", 2);
    return sharded;
  }
  static const std::string single = GenerateTemplate("single", 1);
  return single;
}

struct LoadOutcome {
  absl::Status status;
  // What the load wrote to stderr (ember's log).
  std::string log;
  // Peak operator-new bytes above the level before the load.
  int64_t peak_heap_growth = 0;
  // Malloc heap growth once the load returned and the engine is gone.
  int64_t retained_heap_bytes = 0;
};

// Engine::Create as the server calls it, with a small KV cache and one thread.
LoadOutcome LoadLikeTheServer(const std::string& dir) {
  EngineOptions options;
  options.model_dir = dir;
  options.compute = DType::kF32;
  options.threads = 1;
  options.max_running = 2;
  options.kv_cache_bytes = int64_t{1} << 20;
  LoadOutcome outcome;
  ::testing::internal::CaptureStderr();
  const int64_t retained_before = testing::RetainedHeapBytes();
  const int64_t live_before = testing::LiveNewBytes();
  testing::ResetPeakNewBytes();
  {
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(options);
    outcome.peak_heap_growth = testing::PeakNewBytes() - live_before;
    outcome.status = engine.status();
  }
  outcome.retained_heap_bytes = testing::RetainedHeapBytes() - retained_before;
  outcome.log = ::testing::internal::GetCapturedStderr();
  return outcome;
}

// True when one WARNING line of `log` contains every one of `parts`.
bool HasWarningNaming(const std::string& log, const std::vector<std::string>& parts) {
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (!absl::StrContains(line, " WARNING ")) continue;
    if (std::all_of(parts.begin(), parts.end(),
                    [line](const std::string& part) { return absl::StrContains(line, part); })) {
      return true;
    }
  }
  return false;
}

class BadModelFilesTest : public ::testing::TestWithParam<BadModelCase> {
 protected:
  // A broken copy of the template, in this test's own directory.
  std::string BreakCopy(const BadModelCase& c) {
    const std::string dir = scratch_.File("model");
    testing::CopyModelDir(TemplateDir(c.layout), dir);
    c.damage(testing::ModelDirEdits(dir));
    return dir;
  }
  testing::TempDir scratch_;
};

TEST_P(BadModelFilesTest, IsReportedByFileAndField) {
  const BadModelCase& c = GetParam();
  const std::string dir = BreakCopy(c);
  ASSERT_FALSE(HasFailure()) << "could not break the model";
  const LoadOutcome outcome = LoadLikeTheServer(dir);
  const std::string where = c.file.empty() ? dir : JoinPath(dir, c.file);

  if (c.code == absl::StatusCode::kOk) {
    ASSERT_TRUE(outcome.status.ok()) << outcome.status;
    std::vector<std::string> parts = c.what;
    parts.push_back(where);
    EXPECT_TRUE(HasWarningNaming(outcome.log, parts)) << outcome.log;
    RecordProperty("log", outcome.log);
    return;
  }
  ASSERT_FALSE(outcome.status.ok()) << "the broken model loaded";
  EXPECT_EQ(outcome.status.code(), c.code) << outcome.status;
  const std::string message(outcome.status.message());  // gmock prints a std::string readably
  EXPECT_THAT(message, HasSubstr(where));
  for (const std::string& part : c.what) EXPECT_THAT(message, HasSubstr(part));
  EXPECT_LT(outcome.peak_heap_growth, kMaxFailedLoadHeapBytes);
  EXPECT_LT(outcome.retained_heap_bytes, kMaxFailedLoadHeapBytes);
  // In --gtest_output=xml, for reviewing the messages and the figures.
  RecordProperty("load_status", outcome.status.ToString());
  RecordProperty("peak_heap_growth_bytes", std::to_string(outcome.peak_heap_growth));
  RecordProperty("retained_heap_bytes", std::to_string(outcome.retained_heap_bytes));
}

}  // namespace

// gtest prints a failing case's parameter with this (it looks it up next to BadModelCase).
void PrintTo(const BadModelCase& c, std::ostream* os) { *os << c.name; }

namespace {

std::string CaseName(const ::testing::TestParamInfo<BadModelCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Safetensors, BadModelFilesTest,
                         ::testing::ValuesIn(SafetensorsFileCases()), CaseName);
INSTANTIATE_TEST_SUITE_P(Checkpoint, BadModelFilesTest, ::testing::ValuesIn(CheckpointCases()),
                         CaseName);
INSTANTIATE_TEST_SUITE_P(Config, BadModelFilesTest, ::testing::ValuesIn(ConfigCases()), CaseName);
INSTANTIATE_TEST_SUITE_P(Tokenizer, BadModelFilesTest, ::testing::ValuesIn(TokenizerCases()),
                         CaseName);

// The controls: without damage both templates load, silently, and so does the directory with its
// tokenizer.json replaced by a SentencePiece model (the fixture the SentencePiece cases break).
TEST(BadModelFilesControl, UntouchedTemplatesLoadWithoutWarnings) {
  for (const ModelLayout layout : {ModelLayout::kSingleFile, ModelLayout::kSharded}) {
    const LoadOutcome outcome = LoadLikeTheServer(TemplateDir(layout));
    EXPECT_TRUE(outcome.status.ok()) << outcome.status;
    EXPECT_THAT(outcome.log, Not(HasSubstr("WARN"))) << outcome.log;
  }
}

TEST(BadModelFilesControl, SentencePieceTokenizerLoads) {
  testing::TempDir scratch;
  const std::string dir = scratch.File("model");
  testing::CopyModelDir(TemplateDir(ModelLayout::kSingleFile), dir);
  UseSentencePieceTokenizer(testing::ModelDirEdits(dir));
  const LoadOutcome outcome = LoadLikeTheServer(dir);
  EXPECT_TRUE(outcome.status.ok()) << outcome.status;
}

// The memory bound is only as good as the meter: it must see an allocation freed before the check.
TEST(BadModelFilesControl, AllocationMeterSeesTransientAllocations) {
  constexpr size_t kBytes = size_t{64} << 20;
  const int64_t live_before = testing::LiveNewBytes();
  testing::ResetPeakNewBytes();
  {
    std::vector<char> buffer(kBytes, 1);
    volatile char sink = buffer[kBytes / 2];  // keeps the allocation from being optimized away
    (void)sink;
  }
  EXPECT_GE(testing::PeakNewBytes() - live_before, static_cast<int64_t>(kBytes));
  EXPECT_LT(testing::LiveNewBytes() - live_before, int64_t{1} << 20);
}

// The scan behind the non-finite warnings, on the dtypes the template does not use (it is F32) and
// at an odd address, as safetensors data may be.
TEST(BadModelFilesControl, NonFiniteScanCountsNanAndInfInEveryDtype) {
  // 1.0, +Inf, NaN, -Inf, largest finite, -0.0 in each encoding.
  const std::string bf16 =
      absl::StrCat(" ", testing::U16Bytes({0x3f80, 0x7f80, 0x7fc1, 0xff80, 0x7f7f, 0x8000}));
  const std::string f16 =
      absl::StrCat(" ", testing::U16Bytes({0x3c00, 0x7c00, 0x7e01, 0xfc00, 0x7bff, 0x8000}));
  const float inf = std::numeric_limits<float>::infinity();
  const std::string f32 =
      absl::StrCat(" ", testing::F32Bytes({1.0f, inf, std::nanf(""), -inf, 3e38f, -0.0f}));
  for (const auto& [dtype, bytes] :
       {std::pair{DType::kBF16, bf16}, std::pair{DType::kF16, f16}, std::pair{DType::kF32, f32}}) {
    TensorView view;
    view.dtype = dtype;
    view.shape = {6};
    view.data = bytes.data() + 1;
    view.num_bytes = bytes.size() - 1;
    EXPECT_EQ(CountNonFinite(view), 3) << DTypeName(dtype);
  }
}

TEST(BadModelFilesControl, MatrixHasAtLeastFiftyCases) {
  const size_t cases = SafetensorsFileCases().size() + CheckpointCases().size() +
                       ConfigCases().size() + TokenizerCases().size();
  EXPECT_GE(cases, 50u);
}

}  // namespace
}  // namespace ember
