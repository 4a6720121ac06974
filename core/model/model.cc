#include "core/model/model.h"

#include "absl/strings/str_cat.h"
#include "core/kernels/cpu_features.h"
#include "core/model/decoder_model.h"
#include "core/model/marian_model.h"
#include "core/util/status_macros.h"

namespace ember {

absl::StatusOr<DType> ResolveComputeType(const ModelOptions& options) {
  const DType compute = options.compute.value_or(CpuHasNativeBf16() ? DType::kBF16 : DType::kF32);
  if (compute != DType::kF32 && compute != DType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("compute dtype ", DTypeName(compute), " is not supported (F32 or BF16)"));
  }
  if (options.quantize.has_value()) RETURN_IF_ERROR(quant::ValidateScheme(*options.quantize));
  return compute;
}

std::string WeightFormatName(const ModelOptions& options, DType compute) {
  const std::string dtype(DTypeName(compute));
  if (!options.quantize.has_value()) return dtype;
  std::string name = quant::SchemeName(*options.quantize);
  if (!options.quantize_lm_head) absl::StrAppend(&name, ", lm_head ", dtype);
  return name;
}

absl::StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& model_dir,
                                                 const ModelOptions& options) {
  // config.json is read twice (here and by the loader): it is small, and each loader stays usable
  // on its own.
  ASSIGN_OR_RETURN(const ModelConfig config, LoadModelConfig(model_dir));
  if (config.architecture == Architecture::kMarian) {
    ASSIGN_OR_RETURN(std::unique_ptr<MarianModel> model, MarianModel::Load(model_dir, options));
    return std::unique_ptr<Model>(std::move(model));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<DecoderModel> model, DecoderModel::Load(model_dir, options));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace ember
