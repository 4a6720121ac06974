// placeholder: implemented by the generation_config work
