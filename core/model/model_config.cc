// placeholder: implemented by the model_config work
